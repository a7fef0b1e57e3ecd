package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

const defaultControlAddr = "127.0.0.1:18090"

// controlHandler lets `demo scale` change a running demo.
func controlHandler(t *topology) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /scale", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.FormValue("replicas"))
		if err != nil {
			http.Error(w, "replicas: want a number", http.StatusBadRequest)
			return
		}
		if err := t.scale(r.FormValue("service"), n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s scaled to %d\n", r.FormValue("service"), n)
	})
	return mux
}

// runScale is `demo scale SERVICE REPLICAS [--control-addr ADDR]`.
func runScale(args []string) error {
	addr := defaultControlAddr
	if len(args) == 4 && args[2] == "--control-addr" {
		addr, args = args[3], args[:2]
	}
	if len(args) != 2 {
		return errors.New("usage: demo scale SERVICE REPLICAS   (e.g. demo scale be1-srv 10)")
	}
	resp, err := http.PostForm("http://"+addr+"/scale", url.Values{"service": {args[0]}, "replicas": {args[1]}})
	if err != nil {
		return fmt.Errorf("is the demo running? %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", b)
	}
	fmt.Print(string(b))
	return nil
}
