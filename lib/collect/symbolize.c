/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "memwatch/collect/symbolize.h"
#include "memwatch/base/util.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *module_base_name(Dwfl_Module *m, uint64_t *start)
{
	Dwarf_Addr lo = 0;
	const char *name = dwfl_module_info(m, NULL, &lo, NULL, NULL, NULL, NULL, NULL);
	const char *slash;

	*start = lo;
	if (!name)
		return "?";
	slash = strrchr(name, '/');
	return slash ? slash + 1 : name;
}

/* libstdc++'s demangler (the Itanium ABI's own entry point; a C declaration is all it needs). */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static uint64_t fnv1a_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The module's build-id in hex into buf ("none" without one). */
static void build_id_hex(Dwfl_Module *m, char *buf, size_t cap)
{
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(m, &bits, &vaddr);
	size_t o = 0;

	snprintf(buf, cap, "none");
	for (int i = 0; i < n && o + 3 <= cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%02x", bits[i]);
}

/* name without its "@@VERSION" (noise here), demangled when it is an Itanium C++ name. */
static void symbol_text(const char *fn, char *buf, size_t cap)
{
	int len = (int)strcspn(fn, "@"), status = -1;
	char raw[MW_FRAME_MAX], *d = NULL;

	snprintf(raw, sizeof(raw), "%.*s", len, fn);
	if (strncmp(raw, "_Z", 2) == 0)
		d = __cxa_demangle(raw, NULL, NULL, &status);
	snprintf(buf, cap, "%s", status == 0 && d ? d : raw);
	free(d);
}

uint64_t mw_symbolize_pc(Dwfl *dwfl, uint64_t pc, char *buf, size_t cap)
{
	Dwfl_Module *m = dwfl_addrmodule(dwfl, pc);
	GElf_Off off = 0;
	GElf_Sym sym;
	Dwarf_Addr bias = 0;
	const char *fn, *mod;
	char name[MW_FRAME_MAX], id[48];
	uint64_t start, vaddr, h = 0xcbf29ce484222325ull;

	if (!m) {
		snprintf(buf, cap, "[unknown]");
		return h;
	}
	mod = module_base_name(m, &start);
	/* The ELF address (what addr2line and debuginfod take), the same in every process. */
	vaddr = dwfl_module_getelf(m, &bias) ? pc - bias : pc - start;
	h = fnv1a_bytes(mod, strlen(mod) + 1, h);
	h = fnv1a_bytes(&vaddr, sizeof(vaddr), h);
	fn = dwfl_module_addrinfo(m, pc, &off, &sym, NULL, NULL, NULL);
	if (fn && *fn) {
		symbol_text(fn, name, sizeof(name));
		snprintf(buf, cap, "%s+0x%" PRIx64 " (%s)", name, (uint64_t)off, mod);
		return h;
	}
	build_id_hex(m, id, sizeof(id));
	snprintf(buf, cap, "%s+0x%" PRIx64 " [build-id %s]", mod, vaddr, id);
	return h;
}

/* vaddr -> file offset through the PT_LOAD segment that holds it. */
static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) < 0)
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ERANGE;
}

static int find_in_symtab(Elf *elf, Elf_Scn *scn, const char *name, GElf_Sym *out)
{
	GElf_Shdr sh;
	Elf_Data *data;
	size_t n;

	if (!gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)) || !sh.sh_entsize)
		return -ENOENT;
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *nm;
		if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF)
			continue;
		nm = elf_strptr(elf, sh.sh_link, s.st_name);
		if (nm && strcmp(nm, name) == 0) {
			*out = s;
			return 0;
		}
	}
	return -ENOENT;
}

int mw_elf_symbol_offset(const char *path, const char *name, uint64_t *file_off, uint64_t *size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	GElf_Sym sym;
	int r = -ENOENT;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOEXEC;
	/* .dynsym first: what the dynamic linker binds calls to. */
	for (int pass = 0; pass < 2 && r < 0; pass++) {
		scn = NULL;
		while (r < 0 && (scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (gelf_getshdr(scn, &sh) &&
			    sh.sh_type == (pass == 0 ? SHT_DYNSYM : SHT_SYMTAB))
				r = find_in_symtab(elf, scn, name, &sym);
		}
	}
	if (r == 0)
		r = vaddr_to_offset(elf, sym.st_value, file_off);
	if (r == 0 && size)
		*size = sym.st_size;
	elf_end(elf);
	return r;
}

int mw_symbolize_file(const char *path, uint64_t file_off, char *buf, size_t cap)
{
	static const Dwfl_Callbacks cb = {
	        .find_elf = dwfl_build_id_find_elf,
	        .find_debuginfo = dwfl_standard_find_debuginfo,
	        .section_address = dwfl_offline_section_address,
	};
	const char *slash = strrchr(path, '/');
	Dwfl *dwfl;
	Dwfl_Module *m;
	Dwarf_Addr bias;
	Elf *elf;
	size_t n;
	int r = -ERANGE;

	if (access(path, R_OK) != 0)
		return -errno;
	dwfl = dwfl_begin(&cb);
	if (!dwfl)
		return -ENOMEM;
	/* Report at base 0 so module addresses equal the file's vaddrs. */
	m = dwfl_report_elf(dwfl, slash ? slash + 1 : path, path, -1, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!m) {
		dwfl_end(dwfl);
		return -ENOEXEC;
	}
	elf = dwfl_module_getelf(m, &bias);
	if (elf && elf_getphdrnum(elf, &n) == 0) {
		for (size_t i = 0; i < n && r < 0; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (file_off >= ph.p_offset && file_off < ph.p_offset + ph.p_filesz) {
				mw_symbolize_pc(dwfl, file_off - ph.p_offset + ph.p_vaddr + bias,
				                buf, cap);
				r = 0;
			}
		}
	}
	dwfl_end(dwfl);
	return r;
}
