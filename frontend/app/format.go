package app

import (
	"fmt"
	"net/http"
	"strings"
)

type format string

const (
	formatText format = "text"
	formatJSON format = "json"
	formatHTML format = "html"
)

// negotiateFormat honours ?format= first, since browsers cannot set Accept
// from the address bar; otherwise browsers get HTML and everything else
// (curl, scripts) one plain-text line per RPC.
func negotiateFormat(r *http.Request) (format, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "":
	case string(formatText), string(formatJSON), string(formatHTML):
		return format(f), nil
	default:
		return "", fmt.Errorf("invalid format %q: want text, json or html", f)
	}
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "text/html"):
		return formatHTML, nil
	case strings.Contains(accept, "application/json"):
		return formatJSON, nil
	default:
		return formatText, nil
	}
}
