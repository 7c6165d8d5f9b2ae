// SPDX-License-Identifier: GPL-2.0-or-later
// A C++ program leaking from a namespaced method, leak::Cache::grow(): it
// keeps --block bytes (default 1 MiB, above glibc's mmap threshold) --rate
// times a second through operator new, touched, never freed. Built -O2
// without frame pointers like Debian's binaries; run as it is (glibc) or
// with LD_PRELOAD of jemalloc or tcmalloc, the site must read the same.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>
#include <vector>

namespace leak
{
class Cache
{
      public:
	explicit Cache(size_t block) : block_(block)
	{
	}
	// noinline: the method is the frame a report must name.
	__attribute__((noinline)) void grow();
	size_t held() const
	{
		return blocks_.size() * block_;
	}

      private:
	size_t block_;
	std::vector<char *> blocks_;
};

void Cache::grow()
{
	char *b = new char[block_];
	memset(b, 0x5a, block_);
	blocks_.push_back(b);
}
} // namespace leak

static double arg(int argc, char **argv, const char *name, double def)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return strtod(argv[i + 1], nullptr);
	return def;
}

int main(int argc, char **argv)
{
	double rate = arg(argc, argv, "--rate", 4), secs = arg(argc, argv, "--for", 600);
	leak::Cache cache((size_t)arg(argc, argv, "--block", 1 << 20));
	struct timespec gap = {0, (long)(1e9 / rate)};

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (long i = 0; i < (long)(secs * rate); i++) {
		cache.grow();
		nanosleep(&gap, nullptr);
	}
	return cache.held() ? 0 : 1;
}
