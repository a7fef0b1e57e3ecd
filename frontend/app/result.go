package app

import (
	"sort"
	"strings"
)

// Result is what one request to /<service> found out. Its JSON form is the
// ?format=json answer.
type Result struct {
	Service string `json:"service"`
	Target  string `json:"target"`
	// RPCs is how many RPCs were asked for; after an error fewer were made.
	RPCs int `json:"rpcs"`
	// Counts is the number of replies per pod (the hostname in the reply).
	Counts map[string]int `json:"counts"`
	// Errors are the gRPC status texts of failed RPCs. Never null in JSON.
	Errors []string `json:"errors"`

	replies []string
}

func newResult(service, target string, rpcs int) *Result {
	return &Result{Service: service, Target: target, RPCs: rpcs, Counts: map[string]int{}, Errors: []string{}}
}

// replyHostMarker precedes the pod name in an echo reply
// ("Hello <name> from hostname <pod>").
const replyHostMarker = " from hostname "

func (r *Result) addReply(message string) {
	r.replies = append(r.replies, message)
	r.Counts[podOf(message)]++
}

// podOf extracts the pod from an echo reply. A reply in another format is
// counted under its full text rather than dropped, so it still shows up.
func podOf(message string) string {
	if i := strings.LastIndex(message, replyHostMarker); i >= 0 {
		return message[i+len(replyHostMarker):]
	}
	return message
}

// succeeded is the number of RPCs that got a reply.
func (r *Result) succeeded() int { return len(r.replies) }

// pods lists the pods that answered, sorted so that output is stable.
func (r *Result) pods() []string {
	pods := make([]string, 0, len(r.Counts))
	for pod := range r.Counts {
		pods = append(pods, pod)
	}
	sort.Strings(pods)
	return pods
}
