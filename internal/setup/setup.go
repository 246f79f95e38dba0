package setup

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// InputError is a problem with what the person gave or did (flags, files in the way, a
// stale or foreign answer from GitHub): the command exits 2 on it.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{msg: fmt.Sprintf(format, args...)}
}

// IsInputError reports whether err is an InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// DefaultAddr is where the page is served unless told otherwise.
const DefaultAddr = "127.0.0.1:3000"

// Options are the flags of `daytwo setup`.
type Options struct {
	Addr      string // listen address of the page
	PublicURL string // the daytwo server's public base URL; webhooks go to PublicURL/api/github/hook
	Org       string // register for this organization instead of the signed-in user
	GitHubURL string // a GitHub Enterprise Server; "" is github.com
	Out       string // directory of the files written
	Force     bool   // replace files already there

	Stdout io.Writer
	// HTTPClient makes the conversion request (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Listening, when set, is told the page's URL once it is served.
	Listening func(pageURL string)
}

var loginRE = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)

// plan is what a run works with once the options are checked.
type plan struct {
	opts     Options
	gh       GitHub
	hookURL  string
	out      string // absolute
	manifest *Manifest
	state    string
	client   *http.Client
}

func newPlan(opts Options) (*plan, error) {
	p := &plan{opts: opts}
	if opts.PublicURL == "" {
		return nil, inputErrorf("--public-url is required: the address GitHub sends webhooks to, e.g. https://daytwo.example.com")
	}
	u, err := absoluteURL(opts.PublicURL)
	if err != nil {
		return nil, inputErrorf("--public-url %q: %v (e.g. https://daytwo.example.com)", opts.PublicURL, err)
	}
	base := strings.TrimSuffix(u.String(), "/")
	if strings.HasSuffix(base, githubapp.DefaultWebhookRoute) {
		return nil, inputErrorf("--public-url %q: give the server's base URL; %s is added to it", opts.PublicURL, githubapp.DefaultWebhookRoute)
	}
	p.hookURL = base + githubapp.DefaultWebhookRoute
	if p.gh, err = GitHubAt(opts.GitHubURL); err != nil {
		return nil, &InputError{msg: err.Error()}
	}
	if opts.Org != "" && (len(opts.Org) > 39 || !loginRE.MatchString(opts.Org)) {
		return nil, inputErrorf("--org %q is not a GitHub organization name (letters, digits and single hyphens, at most 39)", opts.Org)
	}
	if opts.Addr == "" {
		p.opts.Addr = DefaultAddr
	}
	if _, port, err := net.SplitHostPort(p.opts.Addr); err != nil {
		return nil, inputErrorf("--addr %q is not host:port (e.g. %s)", p.opts.Addr, DefaultAddr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, inputErrorf("--addr %q: %q is not a port", p.opts.Addr, port)
	}
	if opts.Out == "" {
		p.opts.Out = "."
	}
	if p.out, err = filepath.Abs(p.opts.Out); err != nil {
		return nil, inputErrorf("--out %q: %v", p.opts.Out, err)
	}
	if p.manifest, err = DefaultManifest(); err != nil {
		return nil, err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	p.state = hex.EncodeToString(b[:])
	p.client = opts.HTTPClient
	if p.client == nil {
		p.client = &http.Client{Timeout: 30 * time.Second}
	}
	if p.opts.Stdout == nil {
		p.opts.Stdout = io.Discard
	}
	return p, nil
}

// Run serves the page until GitHub sends the browser back, then writes the files and
// returns nil, or returns what went wrong (shown on the page as well). Options and the
// --out directory are checked before anything is served.
func Run(ctx context.Context, opts Options) error {
	p, err := newPlan(opts)
	if err != nil {
		return err
	}
	if err := checkOut(p.out, p.opts.Force); err != nil {
		return err
	}
	l, err := net.Listen("tcp", p.opts.Addr)
	if err != nil {
		return inputErrorf("cannot serve the setup page on %s: %v (choose another --addr)", p.opts.Addr, err)
	}
	pageURL := "http://" + l.Addr().String() + "/"
	if host, _, _ := net.SplitHostPort(p.opts.Addr); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		pageURL = "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/"
	}

	done := make(chan error, 1)
	var once sync.Once
	finish := func(err error) { once.Do(func() { done <- err }) }
	srv := &http.Server{Handler: p.handler(l.Addr().String(), finish), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			finish(err)
		}
	}()
	fmt.Fprintf(p.opts.Stdout, "Open %s in a browser to register the GitHub App on %s.\n", pageURL, p.gh.WebURL)
	if p.opts.Listening != nil {
		p.opts.Listening(pageURL)
	}

	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("stopped before GitHub sent the browser back: %w", ctx.Err())
	}
	// Shutdown lets the page being answered finish before the process ends.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return err
}

// handler serves the page and the redirect back from GitHub. listen is the address the
// page is served on; finish is called once with the outcome, after the answer is written.
func (p *plan) handler(listen string, finish func(error)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		manifest, err := p.manifest.JSON(p.hookURL, p.redirectURL(listen, r.Host))
		if err != nil {
			render(w, http.StatusInternalServerError, errorPage, errorData{Title: "Cannot build the manifest", Message: err.Error()})
			return
		}
		render(w, http.StatusOK, startPage, startData{
			App: p.manifest, GitHub: p.gh.WebURL, Org: p.opts.Org, HookURL: p.hookURL,
			Action: p.gh.NewAppURL(p.opts.Org, p.state), ManifestJSON: string(manifest),
			Out: p.out, Files: FileNames,
		})
	})
	var mu sync.Mutex
	handled := false
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		// One answer per run: a reload or a second click must not spend the code again.
		mu.Lock()
		defer mu.Unlock()
		if handled {
			render(w, http.StatusConflict, errorPage, errorData{Title: "daytwo setup has finished", Message: "This registration was already handled; see the terminal."})
			return
		}
		handled = true
		app, err := p.callback(r)
		if err != nil {
			status := http.StatusBadGateway
			if IsInputError(err) {
				status = http.StatusBadRequest
			}
			render(w, status, errorPage, errorData{Title: "daytwo setup stopped", Message: err.Error(), App: app})
		} else {
			render(w, http.StatusOK, donePage, p.doneData(app))
			fmt.Fprint(p.opts.Stdout, p.nextSteps(app))
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		finish(err)
	})
	return mux
}

// redirectURL is where GitHub sends the browser back: this server as the browser reached
// it when it listens on every interface, else the address it listens on (so a page
// reached under another name cannot send the code elsewhere).
func (p *plan) redirectURL(listen, reqHost string) string {
	host, _, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); (host == "" || ip != nil && ip.IsUnspecified()) && reqHost != "" {
		listen = reqHost
	}
	return "http://" + listen + "/callback"
}

// callback checks GitHub's redirect, converts the code and writes the files. On an error
// after the conversion it still returns the app, for the page to name it.
func (p *plan) callback(r *http.Request) (*App, error) {
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if subtle.ConstantTimeCompare([]byte(state), []byte(p.state)) != 1 {
		return nil, inputErrorf("this answer does not belong to the registration this page started (its state does not match). " +
			"Nothing was registered or written here; run daytwo setup again and use the page it opens")
	}
	if code == "" {
		return nil, inputErrorf("GitHub sent the browser back without a code; run daytwo setup again")
	}
	if !p.opts.Force {
		// Checked before the code is spent: a spent code cannot be converted again.
		existing, err := ExistingFiles(p.out)
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 {
			return nil, refuseExisting(p.out, existing)
		}
	}
	app, err := p.gh.Convert(r.Context(), p.client, code)
	if err != nil {
		return nil, p.conversionError(err)
	}
	if _, err := config.ParsePrivateKey([]byte(app.PEM)); err != nil {
		return app, fmt.Errorf("GitHub registered the app %s but its private key is not usable (%v); nothing was written. Generate a new private key in the app's settings: %s", app.Slug, err, p.settingsURL(app))
	}
	files, err := Files(p.gh, app)
	if err != nil {
		return app, err
	}
	if err := WriteFiles(p.out, files, p.opts.Force); err != nil {
		what := fmt.Errorf("GitHub registered the app %s, but its credentials were not written (%w). Nothing was written; "+
			"GitHub gives the key only once: generate a new private key and webhook secret in the app's settings (%s), or delete the app there and run daytwo setup again", app.Slug, err, p.settingsURL(app))
		if IsInputError(err) {
			return app, &InputError{msg: what.Error()}
		}
		return app, what
	}
	return app, nil
}

func (p *plan) settingsURL(app *App) string {
	if p.opts.Org != "" {
		return p.gh.WebURL + "/organizations/" + url.PathEscape(p.opts.Org) + "/settings/apps/" + url.PathEscape(app.Slug)
	}
	return p.gh.WebURL + "/settings/apps/" + url.PathEscape(app.Slug)
}

// conversionError says what a failed conversion means for the person.
func (p *plan) conversionError(err error) error {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusNotFound:
			return inputErrorf("GitHub does not know the code it sent back (404): it was used already or is older than an hour. " +
				"Run daytwo setup again; if GitHub created the app meanwhile, delete it in your GitHub App settings or give the new one another name")
		case http.StatusUnprocessableEntity:
			return inputErrorf("GitHub refused to complete the registration (422: %s). Run daytwo setup again", ge.Message)
		}
		return fmt.Errorf("GitHub answered the conversion of the code with %d %s; run daytwo setup again", ge.Response.StatusCode, ge.Message)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot reach GitHub's API at %s (%v). Check the network or --github-url and run daytwo setup again", p.gh.V3APIURL, ue.Err)
	}
	return fmt.Errorf("converting GitHub's code failed: %w", err)
}
