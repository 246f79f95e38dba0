//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/account"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/session"
	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// Stack is a running control plane with Argo CD and a git daemon, all on 127.0.0.1.
type Stack struct {
	t    *testing.T
	dir  string // run directory: data, logs, certificates
	bin  string // where the binaries are
	kube *kubernetes.Clientset
	dyn  dynamic.Interface
	// KubeConfig is the path of a kubeconfig for the API server (token auth).
	KubeConfig string
	// ArgoCDAddr and ArgoCDToken reach argocd-server (plain text gRPC).
	ArgoCDAddr, ArgoCDToken string
	// ArgoCDViewerToken is a token of the account viewer, which may get applications only.
	ArgoCDViewerToken string
	// GitURL is the GitOps repository as Argo CD fetches it; GitDir is its bare repository.
	GitURL, GitDir string

	mu    sync.Mutex
	procs []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

const kubeToken = "daytwo-e2e-admin-token"

// StartStack starts everything and stops it when the test ends, pass or fail.
func StartStack(t *testing.T) *Stack {
	t.Helper()
	bin := os.Getenv("DAYTWO_E2E_BIN")
	if bin == "" {
		t.Fatal("DAYTWO_E2E_BIN is not set: run `make e2e`, which builds the binaries and sets it")
	}
	dir, err := os.MkdirTemp("", "daytwo-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Stack{t: t, dir: dir, bin: bin}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("run directory kept for inspection: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	start := time.Now()
	s.pki()
	s.startEtcd()
	s.startAPIServer()
	s.startControllers()
	s.startGit()
	s.startArgoCD()
	t.Logf("stack up in %s", time.Since(start).Round(100*time.Millisecond))
	return s
}

// Stop kills every process the stack started (its whole process group) and waits.
func (s *Stack) Stop() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		if p.cmd.Process == nil {
			continue
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

func (s *Stack) path(parts ...string) string {
	return filepath.Join(append([]string{s.dir}, parts...)...)
}

// run starts a process in its own process group, logging to the run directory.
func (s *Stack) run(name, exe string, env []string, args ...string) *proc {
	s.t.Helper()
	logPath := s.path(name + ".log")
	f, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(append(os.Environ(), "HOME="+s.path("home"), "TMPDIR="+s.path("tmp")), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p
}

// wait polls ready until it holds, failing with the process's last log lines.
func (s *Stack) wait(p *proc, what string, timeout time.Duration, ready func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case <-p.done:
			s.t.Fatalf("%s exited before %s:\n%s", p.name, what, tail(p.log, 30))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: no %s within %s:\n%s", p.name, what, timeout, tail(p.log, 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pki writes a CA, the API server's certificate and the service-account key pair.
func (s *Stack) pki() {
	for _, d := range []string{"pki", "home", "tmp", "etcd", "argocd/tls", "argocd/ssh", "argocd/gpg", "argocd/gnupg"} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			s.t.Fatal(err)
		}
	}
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "daytwo-e2e-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	sa, _ := rsa.GenerateKey(rand.Reader, 2048)
	saPub, _ := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	files := map[string][]byte{
		"pki/ca.crt":        pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"pki/apiserver.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"pki/apiserver.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"pki/sa.key":        pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		"pki/sa.pub":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPub}),
		"pki/tokens.csv":    []byte(kubeToken + ",admin,admin,system:masters\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(s.path(name), data, 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
}

var etcdURL string

func (s *Stack) startEtcd() {
	client, peer := freePort(s.t), freePort(s.t)
	etcdURL = fmt.Sprintf("http://127.0.0.1:%d", client)
	p := s.run("etcd", "etcd", nil,
		"--name", "e2e", "--data-dir", s.path("etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-cluster", fmt.Sprintf("e2e=http://127.0.0.1:%d", peer),
		"--listen-metrics-urls", fmt.Sprintf("http://127.0.0.1:%d", freePort(s.t)))
	s.wait(p, "health", 30*time.Second, func() bool {
		res, err := http.Get(etcdURL + "/health")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

func (s *Stack) startAPIServer() {
	port := freePort(s.t)
	p := s.run("kube-apiserver", filepath.Join(s.bin, "kube-apiserver"), nil,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(port),
		"--tls-cert-file", s.path("pki/apiserver.crt"), "--tls-private-key-file", s.path("pki/apiserver.key"),
		"--client-ca-file", s.path("pki/ca.crt"), "--token-auth-file", s.path("pki/tokens.csv"),
		"--authorization-mode", "RBAC",
		"--service-account-key-file", s.path("pki/sa.pub"), "--service-account-signing-key-file", s.path("pki/sa.key"),
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-cluster-ip-range", "10.0.0.0/24", "--endpoint-reconciler-type", "none",
		"--cert-dir", s.path("pki"))
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "https://127.0.0.1:%d", certificate-authority: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: e2e
  context: {cluster: e2e, user: admin, namespace: argocd}
current-context: e2e
`, port, s.path("pki/ca.crt"), kubeToken)
	s.KubeConfig = s.path("kubeconfig")
	if err := os.WriteFile(s.KubeConfig, []byte(kc), 0o600); err != nil {
		s.t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeConfig)
	if err != nil {
		s.t.Fatal(err)
	}
	s.kube = kubernetes.NewForConfigOrDie(cfg)
	s.dyn = dynamic.NewForConfigOrDie(cfg)
	s.wait(p, "readiness", 90*time.Second, func() bool {
		body, err := s.kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		return err == nil && string(body) == "ok"
	})
}

// startControllers starts the controller manager and scheduler, and kwok with one fake
// node, so Deployments get pods that become ready.
func (s *Stack) startControllers() {
	kcm := s.run("kube-controller-manager", filepath.Join(s.bin, "kube-controller-manager"), nil,
		"--kubeconfig", s.KubeConfig, "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(freePort(s.t)),
		"--service-account-private-key-file", s.path("pki/sa.key"), "--root-ca-file", s.path("pki/ca.crt"),
		"--controllers", "*,-nodeipam,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl",
		"--cert-dir", s.path("pki/kcm"))
	s.run("kube-scheduler", filepath.Join(s.bin, "kube-scheduler"), nil,
		"--kubeconfig", s.KubeConfig, "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(freePort(s.t)),
		"--cert-dir", s.path("pki/scheduler"))
	if err := os.WriteFile(s.path("kwok.yaml"), []byte(kwokStages), 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.run("kwok", filepath.Join(s.bin, "kwok"), nil,
		"--config", s.path("kwok.yaml"),
		// A node lease renewed by kwok: with status heartbeats alone the node lifecycle
		// controller sees the node go not-ready every 40 s and marks its pods not ready.
		"--node-lease-duration-seconds", "40",
		"--kubeconfig", s.KubeConfig, "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--cidr", "10.244.0.0/16", "--node-ip", "10.1.0.1", "--server-address", fmt.Sprintf("127.0.0.1:%d", freePort(s.t)))
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: "kwok-node-0", Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		Labels: map[string]string{"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"},
	}}
	if _, err := s.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	s.wait(kcm, "a ready node", 60*time.Second, func() bool {
		n, err := s.kube.CoreV1().Nodes().Get(ctx, "kwok-node-0", metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
}

// BrokenImage is an image whose pods kwok starts but never reports ready, as a crashing
// container would be.
const BrokenImage = "ghcr.io/acme/checkout:broken"

// kwokStages: pods become ready at once, except those running BrokenImage, and deleted
// pods go away. (With pod stages given, kwok uses no default ones.)
const kwokStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.podIP, operator: DoesNotExist}
    - {key: '.spec.containers[0].image', operator: NotIn, values: ["` + BrokenImage + `"]}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
      containerStatuses:
      {{ range .spec.containers }}
      - {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: true, restartCount: 0, state: {running: {startedAt: {{ $now | Quote }}}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-crashing}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: DoesNotExist}
    - {key: .status.podIP, operator: DoesNotExist}
    - {key: '.spec.containers[0].image', operator: In, values: ["` + BrokenImage + `"]}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady}
      containerStatuses:
      {{ range .spec.containers }}
      - {image: {{ .image | Quote }}, name: {{ .name | Quote }}, ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff, message: "back-off restarting failed container"}}}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .metadata.deletionTimestamp, operator: Exists}
  next:
    finalizers: {empty: true}
    delete: true
`

// startGit serves a bare repository with git daemon.
func (s *Stack) startGit() {
	s.GitDir = s.path("git", "gitops.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", s.GitDir).CombinedOutput(); err != nil {
		s.t.Fatalf("git init: %v\n%s", err, out)
	}
	port := freePort(s.t)
	p := s.run("git-daemon", "git", nil, "daemon", "--listen=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--base-path="+s.path("git"), "--export-all", "--reuseaddr", s.path("git"))
	s.GitURL = fmt.Sprintf("git://127.0.0.1:%d/gitops.git", port)
	s.wait(p, "listening", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

var (
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	appGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	prjGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}
)

// startArgoCD installs Argo CD's CRDs and settings and starts its three components from the
// one argocd binary, each under the name that selects it.
func (s *Stack) startArgoCD() {
	ctx := context.Background()
	crdDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/argoproj/argo-cd/v2").Output()
	if err != nil {
		s.t.Fatalf("locate argo-cd: %v", err)
	}
	for _, f := range []string{"application-crd.yaml", "applicationset-crd.yaml", "appproject-crd.yaml"} {
		s.apply(ctx, crdGVR, "", filepath.Join(strings.TrimSpace(string(crdDir)), "manifests", "crds", f))
	}
	// Objects of a CRD can only be made once it is Established.
	for _, name := range []string{"applications.argoproj.io", "appprojects.argoproj.io"} {
		deadline := time.Now().Add(30 * time.Second)
		for !s.established(ctx, name) {
			if time.Now().After(deadline) {
				s.t.Fatalf("CRD %s not Established", name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "argocd"}}
	if _, err := s.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		s.t.Fatal(err)
	}
	password := "daytwo-e2e-password"
	hash, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	part := map[string]string{"app.kubernetes.io/part-of": "argocd"}
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: "argocd", Labels: part}, Data: map[string]string{
			"timeout.reconciliation": "180s",
			"accounts.daytwo":        "apiKey", // daytwo's own account, used through an API token
			"accounts.viewer":        "apiKey", // an account that may not sync, for RBAC's refusal
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "argocd-rbac-cm", Namespace: "argocd", Labels: part}, Data: map[string]string{
			// daytwo may read, refresh and sync applications, nothing else.
			"policy.csv": "p, role:daytwo, applications, get, */*, allow\n" +
				"p, role:daytwo, applications, sync, */*, allow\n" +
				"p, role:daytwo, applications, update, */*, allow\n" +
				"g, daytwo, role:daytwo\n" +
				"p, role:viewer, applications, get, */*, allow\n" +
				"g, viewer, role:viewer\n",
			"policy.default": "",
		}},
	} {
		if _, err := s.kube.CoreV1().ConfigMaps("argocd").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			s.t.Fatal(err)
		}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret", Namespace: "argocd", Labels: part}, StringData: map[string]string{
		"admin.password": string(hash), "admin.passwordMtime": time.Now().UTC().Format(time.RFC3339), "server.secretkey": "daytwo-e2e-secret-key",
	}}
	if _, err := s.kube.CoreV1().Secrets("argocd").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	project := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": "default", "namespace": "argocd"},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
	if _, err := s.dyn.Resource(prjGVR).Namespace("argocd").Create(ctx, project, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}

	redisPort := freePort(s.t)
	redis := s.run("redis", "redis-server", nil, "--port", fmt.Sprint(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	s.wait(redis, "listening", 10*time.Second, func() bool { return dials(redisPort) })
	redisAddr := fmt.Sprintf("127.0.0.1:%d", redisPort)

	names := s.path("bin")
	_ = os.MkdirAll(names, 0o755)
	for _, n := range []string{"argocd-repo-server", "argocd-application-controller", "argocd-server"} {
		_ = os.Symlink(filepath.Join(s.bin, "argocd"), filepath.Join(names, n))
	}
	env := []string{
		"ARGOCD_FAKE_IN_CLUSTER=true", "KUBECONFIG=" + s.KubeConfig,
		"ARGOCD_TLS_DATA_PATH=" + s.path("argocd/tls"), "ARGOCD_SSH_DATA_PATH=" + s.path("argocd/ssh"),
		"ARGOCD_GNUPGHOME=" + s.path("argocd/gnupg"), "ARGOCD_GPG_DATA_PATH=" + s.path("argocd/gpg"), "ARGOCD_GPG_ENABLED=false",
		"PATH=" + s.bin + ":" + os.Getenv("PATH"), // kustomize for the repo server
	}
	repoPort := freePort(s.t)
	repo := s.run("argocd-repo-server", filepath.Join(names, "argocd-repo-server"), env,
		"--disable-tls", "--address", "127.0.0.1", "--port", fmt.Sprint(repoPort), "--metrics-port", fmt.Sprint(freePort(s.t)),
		"--redis", redisAddr, "--revision-cache-expiration", "5s")
	s.wait(repo, "listening", 60*time.Second, func() bool { return dials(repoPort) })
	repoAddr := fmt.Sprintf("127.0.0.1:%d", repoPort)
	s.run("argocd-application-controller", filepath.Join(names, "argocd-application-controller"), env,
		"--repo-server", repoAddr, "--repo-server-plaintext", "--redis", redisAddr, "--app-resync", "10",
		"--metrics-port", fmt.Sprint(freePort(s.t)), "--namespace", "argocd")
	serverPort := freePort(s.t)
	server := s.run("argocd-server", filepath.Join(names, "argocd-server"), env,
		"--insecure", "--address", "127.0.0.1", "--port", fmt.Sprint(serverPort), "--metrics-port", fmt.Sprint(freePort(s.t)),
		"--repo-server", repoAddr, "--repo-server-plaintext", "--redis", redisAddr, "--namespace", "argocd", "--staticassets", s.path("tmp"))
	s.ArgoCDAddr = fmt.Sprintf("127.0.0.1:%d", serverPort)
	s.wait(server, "listening", 60*time.Second, func() bool { return dials(serverPort) })

	// An operator logs in as admin and creates API tokens for daytwo's account and viewer.
	s.wait(server, "API tokens", 30*time.Second, func() bool {
		toks, err := s.apiTokens(ctx, password, "daytwo", "viewer")
		if err != nil {
			s.t.Logf("API tokens: %v (retrying)", err)
			return false
		}
		s.ArgoCDToken, s.ArgoCDViewerToken = toks[0], toks[1]
		return true
	})
}

func (s *Stack) apiTokens(ctx context.Context, password string, accounts ...string) ([]string, error) {
	opts := &apiclient.ClientOptions{ServerAddr: s.ArgoCDAddr, PlainText: true, ConfigPath: s.path("home", "argocd-config")}
	c, err := apiclient.NewClient(opts)
	if err != nil {
		return nil, err
	}
	closer, sc, err := c.NewSessionClient()
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	res, err := sc.Create(ctx, &session.SessionCreateRequest{Username: "admin", Password: password})
	if err != nil {
		return nil, err
	}
	opts.AuthToken = res.Token
	admin, err := apiclient.NewClient(opts)
	if err != nil {
		return nil, err
	}
	closer2, ac, err := admin.NewAccountClient()
	if err != nil {
		return nil, err
	}
	defer closer2.Close()
	var toks []string
	for _, name := range accounts {
		// A token id is unique per account: a retry makes new ones.
		tok, err := ac.CreateToken(ctx, &account.CreateTokenRequest{Name: name, Id: fmt.Sprintf("%s-e2e-%d", name, time.Now().UnixNano())})
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok.Token)
	}
	return toks, nil
}

func dials(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func (s *Stack) established(ctx context.Context, name string) bool {
	crd, err := s.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// apply creates the objects of a YAML file.
func (s *Stack) apply(ctx context.Context, gvr schema.GroupVersionResource, ns, file string) {
	s.t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil || obj == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		var err error
		if ns == "" {
			_, err = s.dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{})
		} else {
			_, err = s.dyn.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
		}
		if err != nil && !apierrors.IsAlreadyExists(err) {
			s.t.Fatalf("create %s from %s: %v", u.GetName(), file, err)
		}
	}
}

// RESTConfig is the admin configuration of the API server.
func (s *Stack) RESTConfig() *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.KubeConfig)
	if err != nil {
		s.t.Fatal(err)
	}
	return cfg
}
