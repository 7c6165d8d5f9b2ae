// SPDX-License-Identifier: GPL-2.0-or-later

// goleak leaks from named Go functions, standard library only: main.leakGoroutines
// starts goroutines that grow their stacks and block forever, main.growMap keeps
// []byte values in a map. Built by tests/integration/it_callsite_go.py with `go build`.
//
//	goleak [-mode both|goroutines|map] [-rate N] [-goroutines N] [-kib N] [-for SECONDS]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

var (
	kept  = map[int][]byte{}
	block = make(chan struct{})
)

// deepen uses about 1 KiB of stack a level, so each goroutine's stack is copied
// to larger ones (stackalloc from the heap) before it parks.
func deepen(n int) byte {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		<-block
		return pad[0]
	}
	return deepen(n-1) + pad[n%len(pad)]
}

//go:noinline
func leakGoroutines(n int) {
	for i := 0; i < n; i++ {
		go deepen(60)
	}
}

//go:noinline
func growMap(key, size int) {
	b := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		b[i] = byte(key)
	}
	kept[key] = b
}

func main() {
	mode := flag.String("mode", "both", "both, goroutines or map")
	rate := flag.Int("rate", 2, "leaks per second")
	gor := flag.Int("goroutines", 8, "goroutines started per leak")
	size := flag.Int("kib", 256, "KiB kept in the map per leak")
	dur := flag.Int("for", 120, "seconds before exiting")
	flag.Parse()
	fmt.Println("ready", os.Getpid())
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	end := time.Now().Add(time.Duration(*dur) * time.Second)
	for key := 0; time.Now().Before(end); key++ {
		<-tick.C
		if *mode != "map" {
			leakGoroutines(*gor)
		}
		if *mode != "goroutines" {
			growMap(key, *size<<10)
		}
	}
}
