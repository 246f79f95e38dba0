package setup

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"path/filepath"
	"strings"
)

type startData struct {
	App          *Manifest
	GitHub, Org  string
	HookURL      string
	Action       string // where the manifest is posted, with the state
	ManifestJSON string
	Out          string
	Files        []string
}

type errorData struct {
	Title, Message string
	App            *App // set when GitHub registered the app before the failure
}

type doneData struct {
	App        *App
	InstallURL string
	Out        string
	Files      []string
	Steps      []string
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// steps are the next steps after a registration, for the page and the terminal alike.
func (p *plan) steps(app *App) []string {
	cfg := filepath.Join(p.opts.Out, ConfigFile)
	return []string{
		"Install the app on the GitOps repository (and on service repositories that should accept commands): " + p.gh.InstallURL(app.Slug),
		"Run the server: daytwo serve --config " + cfg,
		"Or on Kubernetes: with the files in manifests/secrets, kubectl apply -k manifests/ (its secretGenerator reads " + EnvFile + " and " + KeyFile + "); " +
			"deploying with Argo CD, create the Secret first: kubectl apply -f " + filepath.Join(p.opts.Out, SecretFile),
		"Keep " + p.opts.Out + " out of Git: its files hold the app's private key and webhook secret.",
	}
}

func (p *plan) doneData(app *App) doneData {
	return doneData{App: app, InstallURL: p.gh.InstallURL(app.Slug), Out: p.out, Files: FileNames, Steps: p.steps(app)}
}

// nextSteps is what the terminal shows after a registration.
func (p *plan) nextSteps(app *App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Registered the GitHub App %s (id %d) for %s: %s\n", app.Slug, app.ID, app.Owner, app.HTMLURL)
	fmt.Fprintf(&b, "Wrote %s (each readable by you only).\n\nNext:\n", strings.Join(prefixed(p.opts.Out, FileNames), ", "))
	for i, s := range p.steps(app) {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
	}
	return b.String()
}

func prefixed(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}

const style = `<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #d0d7de}
code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
button{font-size:1rem;padding:.6rem 1.2rem;background:#1f883d;color:#fff;border:0;border-radius:6px;cursor:pointer}
.error{border:1px solid #cf222e;background:#ffebe9;padding:1rem;border-radius:6px}.ok{border:1px solid #1a7f37;background:#dafbe1;padding:1rem;border-radius:6px}
</style>`

var startPage = template.Must(template.New("start").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Register {{.App.Name}} on GitHub</title>` + style + `</head>
<body>
<h1>Register {{.App.Name}} on GitHub</h1>
<p>{{.App.Description}}</p>
<p>This registers a GitHub App on <code>{{.GitHub}}</code> for {{if .Org}}the organization <strong>{{.Org}}</strong>{{else}}your personal account{{end}}.
GitHub asks you to confirm its name, then sends you back here.
Webhooks go to <code>{{.HookURL}}</code>.</p>
<h2>What the app may do, and why</h2>
<table id="permissions">
<thead><tr><th>Permission</th><th>Access</th><th>Why</th></tr></thead>
<tbody>{{range .App.Permissions}}<tr><td>{{.Name}}</td><td>{{.Access}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
<h2>Events it receives</h2>
<table id="events">
<thead><tr><th>Event</th><th>Why</th></tr></thead>
<tbody>{{range .App.Events}}<tr><td>{{.Name}}</td><td>{{.Reason}}</td></tr>
{{end}}</tbody></table>
<p>Once registered, the app's id, webhook secret and private key are written to <code>{{.Out}}</code>:
{{range $i, $f := .Files}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.ManifestJSON}}">
<button type="submit" id="register">Register on GitHub</button>
</form>
</body></html>
`))

var donePage = template.Must(template.New("done").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.App.Name}} is registered</title>` + style + `</head>
<body>
<div class="ok" role="status"><h1>{{.App.Name}} is registered</h1>
<p>GitHub App <a href="{{.App.HTMLURL}}">{{.App.Slug}}</a> (id {{.App.ID}}) for {{.App.Owner}}.</p></div>
<p>Written to <code>{{.Out}}</code>, each readable by you only:
{{range $i, $f := .Files}}{{if $i}}, {{end}}<code>{{$f}}</code>{{end}}.</p>
<h2>Next steps</h2>
<ol>{{range .Steps}}<li>{{.}}</li>{{end}}</ol>
<p><a id="install" href="{{.InstallURL}}">Install {{.App.Slug}} on your repositories</a></p>
<p>This page's server has stopped; you can close the tab.</p>
</body></html>
`))

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>` + style + `</head>
<body>
<div class="error" role="alert"><h1>{{.Title}}</h1>
<p id="message">{{.Message}}</p></div>
{{if .App}}<p>The app: <a href="{{.App.HTMLURL}}">{{.App.Slug}}</a> (id {{.App.ID}}).</p>{{end}}
<p>This page's server has stopped.</p>
</body></html>
`))
