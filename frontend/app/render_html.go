package app

import (
	"html/template"
	"io"
)

// page is deliberately plain HTML and CSS: it must work from a kubectl
// port-forward with no assets to fetch. html/template escapes pod names, which
// come from backends and must not be trusted.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Service}} · kxds frontend</title>
<style>
body { font-family: sans-serif; margin: 2em; max-width: 60em; }
.row { display: flex; align-items: center; margin: .3em 0; }
.pod { width: 18em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.track { flex: 1; background: #eee; }
.bar { background: #3b6fd0; color: #fff; padding: .2em .4em; box-sizing: border-box; white-space: nowrap; min-width: 2em; }
.errors { color: #b00020; }
</style>
</head>
<body>
<h1>{{.Service}}</h1>
<p>{{.Succeeded}} of {{.RPCs}} RPCs answered via <code>{{.Target}}</code>.</p>
{{range .Bars}}<div class="row"><span class="pod" title="{{.Pod}}">{{.Pod}}</span><div class="track"><div class="bar" style="width: {{.Percent}}%">{{.Count}}</div></div></div>
{{end}}{{with .Errors}}<ul class="errors">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}</body>
</html>
`))

type bar struct {
	Pod     string
	Count   int
	Percent int
}

type pageData struct {
	*Result
	Succeeded int
	Bars      []bar
}

// renderHTML draws one bar per pod, its length the pod's share of the RPCs
// asked for, so that failures show up as missing length too.
func renderHTML(w io.Writer, res *Result) error {
	data := pageData{Result: res, Succeeded: res.succeeded()}
	for _, pod := range res.pods() {
		n := res.Counts[pod]
		data.Bars = append(data.Bars, bar{Pod: pod, Count: n, Percent: n * 100 / res.RPCs})
	}
	return page.Execute(w, data)
}
