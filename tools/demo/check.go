package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// selfCheck proves the walkthrough: each service answers from each of its
// backends through the frontend's xDS channel, and scaling applies live.
func selfCheck(t *topology, front string) error {
	steps := []struct {
		service string
		scaleTo int
	}{{"be1-srv", 0}, {"be2-srv", 0}, {"be1-srv", 10}, {"be1-srv", 3}}
	for _, s := range steps {
		if s.scaleTo > 0 {
			if err := t.scale(s.service, s.scaleTo); err != nil {
				return err
			}
		}
		svc, _ := t.service(s.service)
		t.mu.Lock()
		want := len(svc.backends)
		t.mu.Unlock()
		if err := waitPods(front, s.service, want, 15*time.Second); err != nil {
			return err
		}
		fmt.Printf("check: %s answers from %d pods\n", s.service, want)
	}
	fmt.Println("check: ok")
	return nil
}

// waitPods waits until a request of 60 RPCs is answered by exactly want pods.
func waitPods(front, service string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		var out struct {
			Counts map[string]int `json:"counts"`
			Errors []string       `json:"errors"`
		}
		resp, err := http.Get(front + "/" + service + "?format=json&n=60")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
		}
		switch {
		case err != nil:
			last = err.Error()
		case len(out.Counts) == want && len(out.Errors) == 0:
			return nil
		default:
			last = fmt.Sprintf("counts %v, errors %v", out.Counts, out.Errors)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s: want replies from %d pods: %s", service, want, last)
}
