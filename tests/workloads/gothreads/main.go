// SPDX-License-Identifier: GPL-2.0-or-later

// gothreads holds OS threads the Go way, standard library only: each of -threads
// goroutines locks itself to its thread and blocks in read(2) on a pipe, so the
// runtime starts a new M (thread) for each. Without cgo the runtime gives every M
// a g0 stack from its own heap, not a pthread stack: the threads' stack pointers
// all land in the heap arena. Built by tests/integration/it_thread_stacks.py.
//
//	gothreads [-threads N] [-for SECONDS]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

func main() {
	threads := flag.Int("threads", 16, "goroutines blocked in read(2), each on its own thread")
	secs := flag.Int("for", 600, "seconds before exiting")
	flag.Parse()
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		fmt.Fprintln(os.Stderr, "gothreads: pipe:", err)
		os.Exit(1)
	}
	for i := 0; i < *threads; i++ {
		go func() {
			runtime.LockOSThread()
			var b [1]byte
			syscall.Read(fds[0], b[:])
		}()
	}
	fmt.Printf("ready %d\n", os.Getpid())
	time.Sleep(time.Duration(*secs) * time.Second)
}
