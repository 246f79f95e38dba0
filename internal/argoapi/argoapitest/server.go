// Package argoapitest is a fake Argo CD API server for tests: it implements argo-cd's own
// generated gRPC ApplicationService (and VersionService) on a real listener, so daytwo's
// real client talks to it over gRPC, plain or TLS, or over gRPC-web as argocd-server serves
// it (improbable-eng's grpcweb wrapper, HTTP/1.1 only, optionally under a root path). Each
// Application follows a script once a refresh finds a new Git revision (automated sync) or
// a sync is asked for: OutOfSync → Progressing → Healthy, or → Degraded, or a failed sync.
//
// Like Argo CD's controller, the fake keeps the app's status.health as its last assessment
// of the live health: a step assesses it (stamping health.lastTransitionTime when it
// changes, and status.reconciledAt when the step ends the operation, as the controller's
// reconcile after a sync does), a refresh assesses it too, and a Stale step leaves the
// previous verdict in place. Its times reach clients in whole seconds, as from a real one.
package argoapitest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/improbable-eng/grpc-web/go/grpcweb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Step is one state an app passes through, After the previous one.
type Step struct {
	After     time.Duration
	Sync      string // Synced, OutOfSync
	Health    string // Healthy, Progressing, Degraded, Missing
	Phase     string // operation phase: Running, Succeeded, Failed
	Message   string
	Unhealthy []Resource
	// Stale leaves status.health (and its resources) as the controller last assessed it:
	// Health and Unhealthy are the live state, which the next assessment finds.
	Stale bool
}

// Resource is an unhealthy resource a step reports.
type Resource struct{ Kind, Namespace, Name, Health, Message string }

// Healthy is the usual rollout: a sync runs, pods roll, the app is healthy.
func Healthy(step time.Duration) []Step {
	return []Step{
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Message: "syncing"},
		{After: step, Sync: "Synced", Health: "Progressing", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
		{After: step, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
	}
}

// Degraded is a rollout whose new pods never become ready.
func Degraded(step time.Duration, res ...Resource) []Step {
	return []Step{
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Message: "syncing"},
		{After: step, Sync: "Synced", Health: "Progressing", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
		{After: step, Sync: "Synced", Health: "Degraded", Phase: "Succeeded", Message: "successfully synced (all tasks run)", Unhealthy: res},
	}
}

// Call is one request the fake answered.
type Call struct {
	Method   string // Get, Refresh, Sync, Watch, Version
	App      string
	Revision string // of a Sync
	At       time.Time
}

type app struct {
	obj     v1alpha1.Application
	target  string // the Git revision the app should run
	script  []Step
	running bool
	// live is the health in the cluster, which an assessment copies into the status.
	live       health.HealthStatusCode
	liveRes    []v1alpha1.ResourceStatus
	unassessed bool // the controller's status processors do not get to the app
}

// Server is the fake. Create it with New; it stops when the test ends.
type Server struct {
	application.UnimplementedApplicationServiceServer
	version.UnimplementedVersionServiceServer

	t      testing.TB
	token  string
	addr   string
	opts   Options
	cert   tls.Certificate
	caFile string

	mu        sync.Mutex
	apps      map[string]*app
	calls     []Call
	changed   chan struct{} // closed and replaced on every change, for watchers
	stop      func()        // stops the listener being served; nil while down
	watchDown bool
	delay     time.Duration
	head      func() string
}

// Options say how the fake serves, as argocd-server can be run.
type Options struct {
	// TLS serves with a certificate for 127.0.0.1 and localhost signed by a CA made for
	// the test, whose PEM file CAFile names.
	TLS bool
	// GRPCWeb serves gRPC-web only, over HTTP/1.1: argocd-server behind an ingress that
	// does not pass HTTP/2. A plain gRPC client is refused.
	GRPCWeb bool
	// RootPath serves gRPC-web under this path (argocd-server --rootpath).
	RootPath string
}

// New starts a fake Argo CD speaking plain-text gRPC on 127.0.0.1 accepting token. head
// says which Git revision a refresh finds (the GitOps repository's default branch in a test).
func New(t testing.TB, token string, head func() string) *Server {
	return NewWith(t, token, head, Options{})
}

// NewWith starts a fake Argo CD served as opts say.
func NewWith(t testing.TB, token string, head func() string, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, token: token, opts: opts, apps: map[string]*app{}, changed: make(chan struct{}), head: head}
	if opts.TLS {
		s.cert, s.caFile = certificate(t)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("argoapitest: %v", err)
	}
	s.addr = lis.Addr().String()
	s.serve(lis)
	t.Cleanup(s.Down)
	return s
}

func (s *Server) serve(lis net.Listener) {
	opts := []grpc.ServerOption{grpc.UnaryInterceptor(s.unary), grpc.StreamInterceptor(s.stream)}
	if s.opts.TLS && !s.opts.GRPCWeb {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{s.cert}})))
	}
	srv := grpc.NewServer(opts...)
	application.RegisterApplicationServiceServer(srv, s)
	version.RegisterVersionServiceServer(srv, s)
	stop := srv.Stop
	if s.opts.GRPCWeb {
		web := &http.Server{Handler: s.webHandler(grpcweb.WrapServer(srv)), ReadHeaderTimeout: 10 * time.Second,
			// No HTTP/2: the ingress this stands for passes HTTP/1.1 only.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
		if s.opts.TLS {
			lis = tls.NewListener(lis, &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"http/1.1"}})
		}
		go func() { _ = web.Serve(lis) }()
		stop = func() { _ = web.Close(); srv.Stop() }
	} else {
		go func() { _ = srv.Serve(lis) }()
	}
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
}

// webHandler answers gRPC-web requests under the root path, as argocd-server does; anything
// else is not found.
func (s *Server) webHandler(web *grpcweb.WrappedGrpcServer) http.Handler {
	prefix := ""
	if root := strings.Trim(s.opts.RootPath, "/"); root != "" {
		prefix = "/" + root
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/") || !web.IsGrpcWebRequest(r) {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		web.ServeHTTP(w, r)
	})
}

// Addr is host:port of the listener.
func (s *Server) Addr() string { return s.addr }

// CAFile is the PEM file of the CA that signed a TLS fake's certificate.
func (s *Server) CAFile() string { return s.caFile }

// Down stops answering, as an Argo CD being restarted does.
func (s *Server) Down() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Up answers again on the same address.
func (s *Server) Up() {
	lis, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("argoapitest: listen again on %s: %v", s.addr, err)
	}
	s.serve(lis)
}

// certificate makes a CA and a server certificate it signs for 127.0.0.1 and localhost,
// and writes the CA's PEM to a file.
func certificate(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	fail := func(err error) {
		if err != nil {
			t.Fatalf("argoapitest: certificate: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "argoapitest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	fail(err)
	ca, err = x509.ParseCertificate(caDER)
	fail(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "argocd-server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	fail(err)
	file := filepath.Join(t.TempDir(), "argocd-ca.pem")
	fail(os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// SetDelay holds every request for d before answering (a slow Argo CD).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// BreakWatch makes the watch stream unavailable, so clients must poll.
func (s *Server) BreakWatch(broken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchDown = broken
}

// AddApp adds an Application; autoSync apps start their script when a refresh finds a new
// revision, the others when asked to sync. Without steps the app becomes Healthy.
func (s *Server) AddApp(name string, autoSync bool, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{script: steps}
	if len(steps) == 0 {
		a.script = Healthy(10 * time.Millisecond)
	}
	a.obj.Name, a.obj.Namespace = name, "argocd"
	a.obj.Spec.Source = &v1alpha1.ApplicationSource{RepoURL: "https://github.com/acme/gitops.git", Path: name, TargetRevision: "main"}
	if autoSync {
		a.obj.Spec.SyncPolicy = &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{Prune: true}}
	}
	a.target = s.head()
	now := metav1.Now()
	a.obj.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: a.target}
	a.live = health.HealthStatusHealthy
	a.obj.Status.Health = v1alpha1.HealthStatus{Status: a.live, LastTransitionTime: &now}
	a.obj.Status.ReconciledAt = &now
	a.obj.Status.Summary.Images = []string{"ghcr.io/acme/" + name + ":current"}
	s.apps[name] = a
	s.notify()
}

// SetScript changes the steps of the app's next rollouts.
func (s *Server) SetScript(name string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.script = steps
	}
}

// SetHealth sets the app's health in the cluster and in its status, as assessed now: what
// an earlier rollout left (a broken one: Degraded).
func (s *Server) SetHealth(name, h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.live = health.HealthStatusCode(h)
		a.assess(true)
		s.notify()
	}
}

// StallStatus makes the controller stop assessing the app's health (stalled true), as
// one whose status processors never get to it does: syncs still run, but status.health,
// reconciledAt and the health's transition time stay as they were, refreshes included.
func (s *Server) StallStatus(name string, stalled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.unassessed = stalled
	}
}

// assess is the controller's reconcile of a: status.health becomes the live health, its
// transition time moves when it changes, and a reconcile with the latest Git (a refresh,
// or the one after an operation) stamps reconciledAt. The lock is held.
func (a *app) assess(latest bool) {
	if a.unassessed {
		return
	}
	now := metav1.Now()
	st := &a.obj.Status
	if st.Health.Status != a.live {
		st.Health = v1alpha1.HealthStatus{Status: a.live, LastTransitionTime: &now}
	}
	st.Resources = append([]v1alpha1.ResourceStatus(nil), a.liveRes...)
	if latest {
		st.ReconciledAt = &now
	}
}

// Calls lists the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// State is an app's current sync and health.
func (s *Server) State(name string) (sync, health, revision string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return "", "", ""
	}
	return string(a.obj.Status.Sync.Status), string(a.obj.Status.Health.Status), a.obj.Status.Sync.Revision
}

// notify wakes watchers; the lock is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.At = time.Now()
	s.calls = append(s.calls, c)
}

// authorize checks the token argo-cd's client sends as "token" metadata.
func (s *Server) authorize(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, tok := range md.Get("token") {
		if tok == s.token {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "invalid session: token is not valid")
}

func (s *Server) hold(ctx context.Context) error {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	if d == 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.hold(ctx); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.hold(ss.Context()); err != nil {
		return err
	}
	if err := s.authorize(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// Version answers as argocd-server does.
func (s *Server) Version(context.Context, *emptypb.Empty) (*version.VersionMessage, error) {
	s.record(Call{Method: "Version"})
	return &version.VersionMessage{Version: "v2.14.21+argoapitest"}, nil
}

// Get returns an app; with refresh set, Argo CD looks at Git first.
func (s *Server) Get(ctx context.Context, q *application.ApplicationQuery) (*v1alpha1.Application, error) {
	name := q.GetName()
	method := "Get"
	if q.GetRefresh() != "" {
		method = "Refresh"
	}
	s.record(Call{Method: method, App: name})
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", name)
	}
	if method == "Refresh" {
		if rev := s.head(); rev != a.target {
			a.target = rev
			a.obj.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
			if a.obj.Spec.SyncPolicy != nil && a.obj.Spec.SyncPolicy.Automated != nil {
				s.run(name, a, rev)
			}
		}
		a.assess(true)
		s.notify()
	}
	return a.obj.DeepCopy(), nil
}

// Sync starts the app's script at the requested revision.
func (s *Server) Sync(ctx context.Context, req *application.ApplicationSyncRequest) (*v1alpha1.Application, error) {
	name := req.GetName()
	s.record(Call{Method: "Sync", App: name, Revision: req.GetRevision()})
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", name)
	}
	if a.running {
		return nil, status.Error(codes.FailedPrecondition, "another operation is already in progress")
	}
	rev := req.GetRevision()
	if rev == "" {
		rev = a.target
	}
	s.run(name, a, rev)
	return a.obj.DeepCopy(), nil
}

// run plays the script of a toward rev in the background; the lock is held.
func (s *Server) run(name string, a *app, rev string) {
	a.running = true
	started := metav1.Now()
	a.obj.Status.OperationState = &v1alpha1.OperationState{
		Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: rev}},
		Phase:     synccommon.OperationRunning, StartedAt: started,
	}
	steps := append([]Step(nil), a.script...)
	go func() {
		for _, st := range steps {
			time.Sleep(st.After)
			s.mu.Lock()
			if s.apps[name] != a {
				s.mu.Unlock()
				return
			}
			o := &a.obj.Status
			o.Sync.Status = v1alpha1.SyncStatusCode(st.Sync)
			if st.Sync == "Synced" {
				o.Sync.Revision = rev
			}
			o.OperationState.Phase = synccommon.OperationPhase(st.Phase)
			o.OperationState.Message = st.Message
			if st.Phase != "Running" {
				now := metav1.Now()
				o.OperationState.FinishedAt = &now
				o.OperationState.SyncResult = &v1alpha1.SyncOperationResult{Revision: rev}
			}
			a.live, a.liveRes = health.HealthStatusCode(st.Health), nil
			for _, r := range st.Unhealthy {
				a.liveRes = append(a.liveRes, v1alpha1.ResourceStatus{
					Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Status: v1alpha1.SyncStatusCodeSynced,
					Health: &v1alpha1.HealthStatus{Status: health.HealthStatusCode(r.Health), Message: r.Message},
				})
			}
			if !st.Stale {
				a.assess(st.Phase != "Running")
			}
			s.notify()
			s.mu.Unlock()
		}
		s.mu.Lock()
		a.running = false
		s.mu.Unlock()
	}()
}

// Watch streams the app's state on every change until the client goes away.
func (s *Server) Watch(q *application.ApplicationQuery, stream application.ApplicationService_WatchServer) error {
	name := q.GetName()
	s.record(Call{Method: "Watch", App: name})
	s.mu.Lock()
	broken := s.watchDown
	s.mu.Unlock()
	if broken {
		return status.Error(codes.Unavailable, "watch is not available")
	}
	for {
		s.mu.Lock()
		a, changed := s.apps[name], s.changed
		var obj *v1alpha1.Application
		if a != nil {
			obj = a.obj.DeepCopy()
		}
		s.mu.Unlock()
		if obj != nil {
			if err := stream.Send(&v1alpha1.ApplicationWatchEvent{Type: watch.Modified, Application: *obj}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

// Apps lists the apps' names.
func (s *Server) Apps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.apps {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// String describes the fake for test logs.
func (s *Server) String() string {
	how := "gRPC"
	if s.opts.GRPCWeb {
		how = "gRPC-web"
	}
	if s.opts.TLS {
		how += " over TLS"
	}
	return fmt.Sprintf("argoapitest (%s) at %s%s", how, s.addr, s.opts.RootPath)
}
