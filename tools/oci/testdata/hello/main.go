// Command hello is a throwaway program for the tests of the OCI image rules: it stands in
// for the real kxds binaries (a static Go program with a --help flag).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	greeting := flag.String("greeting", "hello", "what to say")
	flag.Parse()
	fmt.Printf("%s from uid %d\n", *greeting, os.Getuid())
}
