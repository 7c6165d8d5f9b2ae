# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive a real terminal program in tmux: start a shell in a detached
session of a given size, type into it, read the screen back as text."""
import os
import shutil
import subprocess
import time

import mwtest


def available():
    return shutil.which("tmux") is not None


class Pane:
    def __init__(self, name, width=120, height=40, env=None):
        self.name = name
        self.sock = os.path.join(mwtest.tmpdir("mw-tmux-"), "sock")
        e = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PS1": "$ ", "TERM": "xterm-256color"}
        e.update(env or {})
        envs = " ".join(f"{k}='{v}'" for k, v in e.items())
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
                  f"env -i PATH='{os.environ.get('PATH', '/usr/bin:/bin')}' {envs} sh")
        self.tmux("set-option", "-t", name, "status", "off")

    def tmux(self, *args):
        r = subprocess.run(["tmux", "-S", self.sock, *args], capture_output=True, text=True,
                           errors="replace", timeout=20)
        if r.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def type(self, text, enter=True):
        self.tmux("send-keys", "-t", self.name, "-l", text)
        if enter:
            self.keys("Enter")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def alternate_on(self):
        return self.tmux("display-message", "-p", "-t", self.name, "#{alternate_on}").strip()

    def size(self):
        w, h = self.tmux("display-message", "-p", "-t", self.name,
                         "#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def wait_for(self, pred, timeout=30, what="screen condition"):
        """Poll the screen until pred(text) holds; returns the text (raises on timeout)."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}; screen:\n{text}")

    def close(self):
        try:
            self.tmux("kill-server")
        except Exception:
            pass
