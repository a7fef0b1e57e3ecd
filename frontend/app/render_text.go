package app

import (
	"fmt"
	"io"
)

// renderText writes one line per reply, in order, then one per error.
func renderText(w io.Writer, res *Result) error {
	for _, reply := range res.replies {
		if _, err := fmt.Fprintln(w, reply); err != nil {
			return err
		}
	}
	for _, e := range res.Errors {
		if _, err := fmt.Fprintf(w, "error after %d of %d RPCs: %s\n", res.succeeded(), res.RPCs, e); err != nil {
			return err
		}
	}
	return nil
}
