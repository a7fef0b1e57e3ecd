// Command demo runs the kxds walkthrough topology on one machine, with no
// cluster: kxds with static discovery, echo backends for be1-srv and be2-srv
// on their own 127.0.0.x addresses (like pods), and the frontend.
//
//	go run ./tools/demo                      # start; prints what to curl
//	go run ./tools/demo scale be1-srv 10     # from another terminal, live
//
// Scaling edits the same svc_config.json that kxds watches, so it takes the
// path a real config change takes.
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "scale" {
		err = runScale(os.Args[2:])
	} else {
		err = runDemo(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}
