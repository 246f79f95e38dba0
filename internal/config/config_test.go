package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFromEnvOnlyAppliesDefaults(t *testing.T) {
	key := testKey(t)
	c, err := Load("", envMap(map[string]string{
		"GITHUB_APP_INTEGRATION_ID": "42",
		"GITHUB_APP_WEBHOOK_SECRET": "s3cret",
		"GITHUB_APP_PRIVATE_KEY":    key,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.App.IntegrationID != 42 || c.Address != ":8080" || c.GitHub.V3APIURL != DefaultV3APIURL {
		t.Fatalf("unexpected config: %+v", c)
	}
	if c.Webhook.QueueSize != DefaultQueueSize || c.Webhook.Workers != DefaultWorkers || time.Duration(c.ShutdownTimeout) != DefaultShutdownTimeout {
		t.Fatalf("defaults not applied: %+v", c.Webhook)
	}
}

func TestLoadFileThenEnvOverrides(t *testing.T) {
	keyPath := writeFile(t, "key.pem", testKey(t))
	path := writeFile(t, "daytwo.yml", `
address: ":9000"
github:
  v3_api_url: https://ghe.example.com/api/v3/
  app:
    integration_id: 7
    webhook_secret: from-file
private_key_file: `+keyPath+`
webhook:
  queue_size: 5
  workers: 2
shutdown_timeout: 5s
log:
  level: debug
  format: text
`)
	c, err := Load(path, envMap(map[string]string{"DAYTWO_ADDR": "127.0.0.1:0", "GITHUB_APP_WEBHOOK_SECRET": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Address != "127.0.0.1:0" || c.GitHub.App.WebhookSecret != "from-env" || c.GitHub.App.IntegrationID != 7 {
		t.Fatalf("env did not override the file: %+v", c)
	}
	if c.GitHub.V3APIURL != "https://ghe.example.com/api/v3/" || c.Webhook.QueueSize != 5 || time.Duration(c.ShutdownTimeout) != 5*time.Second {
		t.Fatalf("file values lost: %+v", c)
	}
	if !strings.Contains(c.GitHub.App.PrivateKey, "BEGIN RSA PRIVATE KEY") {
		t.Fatal("private key file not read")
	}
}

func TestLoadRefusals(t *testing.T) {
	key := testKey(t)
	good := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": key}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "<unset>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	keyFile := func(path string) map[string]string {
		m := with("GITHUB_APP_PRIVATE_KEY", "<unset>")
		m["GITHUB_APP_PRIVATE_KEY_FILE"] = path
		return m
	}
	cases := []struct {
		name string
		file string
		env  map[string]string
		want string
	}{
		{"no secret", "", with("GITHUB_APP_WEBHOOK_SECRET", "<unset>"), "webhook secret is missing"},
		{"blank secret", "", with("GITHUB_APP_WEBHOOK_SECRET", "  "), "webhook secret is missing"},
		{"no key", "", with("GITHUB_APP_PRIVATE_KEY", "<unset>"), "private key is missing"},
		{"garbage key", "", with("GITHUB_APP_PRIVATE_KEY", "not a key"), "no PEM block"},
		{"missing key file", "", keyFile("/nonexistent/key.pem"), "private key file cannot be read"},
		{"bad app id", "", with("GITHUB_APP_INTEGRATION_ID", "abc"), `GITHUB_APP_INTEGRATION_ID="abc" is not a number`},
		{"no app id", "", with("GITHUB_APP_INTEGRATION_ID", "<unset>"), "App id is missing"},
		{"unknown key", "adress: x\n", good, "field adress not found"},
		{"unknown nested key", "github:\n  app:\n    secret: x\n", good, "field secret not found"},
		{"bad duration", "shutdown_timeout: soon\n", good, `"soon" is not a duration`},
		{"bad log level", "log:\n  level: loud\n", good, `log.level "loud"`},
		{"bad url", "github:\n  v3_api_url: ftp://x\n", good, "not an http(s) URL"},
		{"argocd without token", "argocd:\n  server: argocd.example.com:443\n", good, "argocd.server is set but the token is missing"},
		{"argocd url", "argocd:\n  server: https://argocd.example.com\n  token: t\n", good, "must be host:port"},
		{"argocd token alone", "", with("DAYTWO_ARGOCD_TOKEN", "t"), "argocd.token is set but argocd.server is not"},
		{"argocd plaintext and ca", "argocd:\n  server: a:80\n  token: t\n  plaintext: true\n  ca_file: /x\n", good, "plaintext turns TLS off"},
		{"argocd missing ca", "argocd:\n  server: a:443\n  token: t\n  ca_file: /nonexistent/ca.pem\n", good, "argocd.ca_file cannot be read"},
		{"argocd unknown key", "argocd:\n  sever: a:443\n", good, "field sever not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, "c.yml", tc.file)
			}
			_, err := Load(path, envMap(tc.env))
			if err == nil {
				t.Fatalf("expected an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParsePrivateKeyPKCS8(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil || !got.Equal(k) {
		t.Fatalf("PKCS#8 key not parsed: %v", err)
	}
}

func TestArgoCDFromFileAndEnv(t *testing.T) {
	env := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}
	c, err := Load("", envMap(env))
	if err != nil || c.ArgoCD.Enabled() {
		t.Fatalf("Argo CD is optional and off by default: %+v %v", c.ArgoCD, err)
	}
	path := writeFile(t, "c.yml", "argocd:\n  server: argocd.example.com:443\n  token: from-file\n  grpc_web: true\n  grpc_web_root_path: /argo-cd\n")
	env["DAYTWO_ARGOCD_TOKEN"] = "from-env"
	c, err = Load(path, envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if a := c.ArgoCD; !a.Enabled() || a.Server != "argocd.example.com:443" || a.Token != "from-env" || !a.GRPCWeb || a.GRPCWebRootPath != "/argo-cd" {
		t.Fatalf("argocd: %+v", a)
	}

	// In a cluster the Deployment sets all of it from the environment.
	caFile := writeFile(t, "ca.pem", "")
	env["DAYTWO_ARGOCD_SERVER"], env["DAYTWO_ARGOCD_INSECURE"], env["DAYTWO_ARGOCD_CA_FILE"] = "argocd-server.argocd.svc:443", "true", caFile
	if c, err = Load("", envMap(env)); err != nil {
		t.Fatal(err)
	}
	if a := c.ArgoCD; a.Server != "argocd-server.argocd.svc:443" || !a.Insecure || a.CAFile != caFile || a.PlainText {
		t.Fatalf("argocd from the environment: %+v", a)
	}
	env["DAYTWO_ARGOCD_INSECURE"] = "maybe"
	if _, err = Load("", envMap(env)); err == nil || err.Error() != `config: DAYTWO_ARGOCD_INSECURE="maybe" is not true or false` {
		t.Fatalf("malformed DAYTWO_ARGOCD_INSECURE: %v", err)
	}
}

func TestRedisOffByDefault(t *testing.T) {
	c, err := Load("", envMap(map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis.Enabled() || c.Redis.String() != "none" || c.Redis.Prefix() != DefaultRedisKeyPrefix {
		t.Fatalf("Redis is optional and off by default: %+v", c.Redis)
	}
}

func TestRedisFromFileAndEnv(t *testing.T) {
	ca := writeFile(t, "ca.pem", "not checked here")
	good := func() map[string]string {
		return map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}
	}
	path := writeFile(t, "c.yml", `
redis:
  address: redis.example.com:6380
  username: daytwo
  password: from-file
  db: 2
  tls: true
  ca_file: `+ca+`
  key_prefix: "dt:"
  lock_ttl: 45s
  lease_ttl: 10s
  claim_idle: 5m
`)
	c, err := Load(path, envMap(good()))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redis
	if !r.Enabled() || r.Address != "redis.example.com:6380" || r.Username != "daytwo" || r.Password != "from-file" || r.DB != 2 ||
		!r.TLS || !r.UseTLS() || r.CAFile != ca || r.Prefix() != "dt:" ||
		time.Duration(r.LockTTL) != 45*time.Second || time.Duration(r.LeaseTTL) != 10*time.Second || time.Duration(r.ClaimIdle) != 5*time.Minute {
		t.Fatalf("redis from the file: %+v", r)
	}
	if s := r.String(); strings.Contains(s, "from-file") || !strings.Contains(s, "redis.example.com:6380") {
		t.Fatalf("String shows the password or hides the address: %q", s)
	}

	// The environment wins: the password, and the endpoint, replacing the file's.
	env := good()
	env["DAYTWO_REDIS_PASSWORD"] = "from-env"
	env["DAYTWO_REDIS_URL"] = "rediss://:url-secret@cache.example.com:6379/3"
	c, err = Load(path, envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	r = c.Redis
	// The URL carries the db and TLS: the file's db and tls give way to it.
	if r.URL != env["DAYTWO_REDIS_URL"] || r.Address != "" || r.Password != "from-env" || r.DB != 0 || r.TLS || !r.UseTLS() || r.CAFile != ca {
		t.Fatalf("env did not override the file: %+v", r)
	}
	if s := r.String(); strings.Contains(s, "url-secret") || !strings.Contains(s, "cache.example.com") {
		t.Fatalf("String shows the URL's password: %q", s)
	}

	env = good()
	env["DAYTWO_REDIS_ADDR"] = "10.0.0.1:6379"
	c, err = Load(writeFile(t, "s.yml", "redis:\n  sentinel:\n    master: mymaster\n    addresses: [a:26379, b:26379]\n"), envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Redis.Address != "10.0.0.1:6379" || c.Redis.Sentinel.Master != "" {
		t.Fatalf("DAYTWO_REDIS_ADDR replaces the file's sentinel: %+v", c.Redis)
	}

	c, err = Load(writeFile(t, "s.yml", "redis:\n  sentinel:\n    master: mymaster\n    addresses: [a:26379, b:26379]\n    password: sp\n"), envMap(good()))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Redis.Sentinel; !c.Redis.Enabled() || s.Master != "mymaster" || len(s.Addresses) != 2 || s.Password != "sp" {
		t.Fatalf("sentinel: %+v", s)
	}
}

func TestRedisRefusals(t *testing.T) {
	good := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name string
		file string
		env  map[string]string
		want string
	}{
		{"url and address", "redis:\n  url: redis://a:6379\n  address: b:6379\n", good, "redis.url and redis.address are exclusive"},
		{"both env", "", with("DAYTWO_REDIS_URL", "redis://a:6379", "DAYTWO_REDIS_ADDR", "b:6379"), "DAYTWO_REDIS_URL and DAYTWO_REDIS_ADDR are both set"},
		{"sentinel without master", "redis:\n  sentinel:\n    addresses: [a:26379]\n", good, "redis.sentinel needs master"},
		{"sentinel without addresses", "redis:\n  sentinel:\n    master: m\n", good, "redis.sentinel needs addresses"},
		{"sentinel and address", "redis:\n  address: a:6379\n  sentinel:\n    master: m\n    addresses: [a:26379]\n", good, "drop redis.url and redis.address"},
		{"sentinel bad address", "redis:\n  sentinel:\n    master: m\n    addresses: [a]\n", good, `redis.sentinel.addresses: "a" is not host:port`},
		{"bad lock_ttl", "redis:\n  address: a:6379\n  lock_ttl: forever\n", good, `redis.lock_ttl: line 3: "forever" is not a duration`},
		{"bad lease_ttl", "redis:\n  address: a:6379\n  lease_ttl: 10\n", good, `redis.lease_ttl: line 3: "10" is not a duration`},
		{"bad claim_idle", "redis:\n  address: a:6379\n  claim_idle: [1m]\n", good, `redis.claim_idle: line 3: "" is not a duration`},
		{"short lease_ttl", "redis:\n  address: a:6379\n  lease_ttl: 10ms\n", good, "redis.lease_ttl 10ms is too short"},
		{"bad scheme", "redis:\n  url: http://a:6379\n", good, "redis.url must start with redis://"},
		{"bad url hides password", "", with("DAYTWO_REDIS_URL", "redis://:hunter2@a:port/"), "redis.url is not a URL"},
		{"url without host", "redis:\n  url: redis:///0\n", good, "redis.url names no host"},
		{"url and db", "redis:\n  url: redis://a:6379\n  db: 3\n", good, "put the db in the URL"},
		{"url and tls", "redis:\n  url: redis://a:6379\n  tls: true\n", good, "use a rediss:// URL"},
		{"address without port", "redis:\n  address: redis.example.com\n", good, `redis.address "redis.example.com" is not host:port`},
		{"ca without tls", "redis:\n  address: a:6379\n  ca_file: /x\n", good, "apply to TLS only"},
		{"insecure without tls", "redis:\n  url: redis://a:6379\n  insecure_skip_verify: true\n", good, "apply to TLS only"},
		{"missing ca", "redis:\n  address: a:6379\n  tls: true\n  ca_file: /nonexistent/ca.pem\n", good, "redis.ca_file cannot be read"},
		{"password alone", "", with("DAYTWO_REDIS_PASSWORD", "p"), "redis settings are given but no server"},
		{"negative db", "redis:\n  address: a:6379\n  db: -1\n", good, "redis.db -1 must not be negative"},
		{"unknown key", "redis:\n  adress: a:6379\n", good, "field adress not found"},
		{"unknown sentinel key", "redis:\n  sentinel:\n    name: m\n", good, "field name not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, "c.yml", tc.file)
			}
			_, err := Load(path, envMap(tc.env))
			if err == nil {
				t.Fatalf("expected an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the password: %q", err)
			}
		})
	}
}

func TestRedisDurationAlias(t *testing.T) {
	env := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}
	c, err := Load(writeFile(t, "c.yml", "redis:\n  address: a:6379\n  lock_ttl: &ttl 20s\n  lease_ttl: *ttl\n"), envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.Redis.LeaseTTL) != 20*time.Second {
		t.Fatalf("lease_ttl %s", time.Duration(c.Redis.LeaseTTL))
	}
}

func TestWebhookSecretRotation(t *testing.T) {
	keyPath := writeFile(t, "key.pem", testKey(t))
	load := func(secretYAML string, env map[string]string) (*Config, error) {
		path := writeFile(t, "daytwo.yml", "github:\n  app:\n    integration_id: 7\n    webhook_secret: "+secretYAML+"\nprivate_key_file: "+keyPath+"\n")
		return Load(path, envMap(env))
	}
	c, err := load(`["new", "old"]`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.WebhookSecrets(); !reflect.DeepEqual(got, []string{"new", "old"}) || c.GitHub.App.WebhookSecret != "new" {
		t.Fatalf("secrets %q, current %q", got, c.GitHub.App.WebhookSecret)
	}
	if c, err = load("\n      - only", nil); err != nil || !reflect.DeepEqual(c.WebhookSecrets(), []string{"only"}) {
		t.Fatalf("one-item list: %v %v", err, c)
	}
	if c, err = load("new", map[string]string{"DAYTWO_PREVIOUS_WEBHOOK_SECRET": "old"}); err != nil || !reflect.DeepEqual(c.WebhookSecrets(), []string{"new", "old"}) {
		t.Fatalf("previous secret from the environment: %v %v", err, c)
	}
	for yml, want := range map[string]string{
		`["a", "b", "c"]`: "github.app.webhook_secret: line 4: list the new secret, then the old one while GitHub switches (at most 2, got 3)",
		`[]`:              "github.app.webhook_secret: line 4: list the new secret, then the old one while GitHub switches (at most 2, got 0)",
		`["a", ""]`:       "github.app.webhook_secret: line 4: each secret is a non-empty string",
		`["a", "a"]`:      "the previous webhook secret equals the current one: a rotation lists the new secret first, then the old one",
	} {
		_, err := load(yml, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("webhook_secret: %s: got %v, want %q", yml, err, want)
		}
	}
}

// A relative private_key_file in the file is found beside the file, whatever the working
// directory; one from the environment is relative to the working directory.
func TestRelativePathsInTheFileAreRelativeToIt(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"secrets/private-key.pem": testKey(t),
		"secrets/config.yml":      "github:\n  app:\n    integration_id: 7\n    webhook_secret: s\nprivate_key_file: private-key.pem\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir()) // elsewhere: a working-directory-relative lookup would miss the key
	c, err := Load(filepath.Join(dir, "secrets", "config.yml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PrivateKeyFile != filepath.Join(dir, "secrets", "private-key.pem") || !strings.Contains(c.GitHub.App.PrivateKey, "PRIVATE KEY") {
		t.Fatalf("private_key_file resolved to %q", c.PrivateKeyFile)
	}

	t.Chdir(dir)
	_, err = Load(filepath.Join(dir, "secrets", "config.yml"), envMap(map[string]string{"GITHUB_APP_PRIVATE_KEY_FILE": "private-key.pem"}))
	if err == nil || !strings.Contains(err.Error(), "private key file cannot be read") {
		t.Fatalf("a relative path from the environment must be read from the working directory: err = %v", err)
	}
	c, err = Load(filepath.Join(dir, "secrets", "config.yml"), envMap(map[string]string{"GITHUB_APP_PRIVATE_KEY_FILE": "secrets/private-key.pem"}))
	if err != nil || c.PrivateKeyFile != "secrets/private-key.pem" {
		t.Fatalf("env path: %v, %q", err, c.PrivateKeyFile)
	}
}

func TestIncidentsFromFileAndEnv(t *testing.T) {
	env := map[string]string{"GITHUB_APP_INTEGRATION_ID": "1", "GITHUB_APP_WEBHOOK_SECRET": "x", "GITHUB_APP_PRIVATE_KEY": testKey(t)}
	c, err := Load("", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.IncidentsOn() {
		t.Error("without Argo CD there are no incidents")
	}
	if time.Duration(c.Incidents.Grace) != DefaultIncidentGrace || time.Duration(c.Incidents.Settle) != DefaultIncidentSettle {
		t.Errorf("defaults: %+v", c.Incidents)
	}
	env["DAYTWO_ARGOCD_SERVER"], env["DAYTWO_ARGOCD_TOKEN"] = "argocd:443", "t"
	if c, err = Load("", envMap(env)); err != nil || !c.IncidentsOn() {
		t.Fatalf("on by default with Argo CD: %+v %v", c.Incidents, err)
	}
	path := writeFile(t, "c.yml", "incidents:\n  enabled: false\n  grace: 90s\n")
	if c, err = Load(path, envMap(env)); err != nil || c.IncidentsOn() || time.Duration(c.Incidents.Grace) != 90*time.Second {
		t.Fatalf("from the file: %+v %v", c.Incidents, err)
	}
	env["DAYTWO_INCIDENTS_ENABLED"], env["DAYTWO_INCIDENTS_GRACE"], env["DAYTWO_INCIDENTS_SETTLE"] = "true", "3s", "1s"
	if c, err = Load(path, envMap(env)); err != nil || !c.IncidentsOn() || time.Duration(c.Incidents.Grace) != 3*time.Second || time.Duration(c.Incidents.Settle) != time.Second {
		t.Fatalf("the environment overrides the file: %+v %v", c.Incidents, err)
	}
	env["DAYTWO_INCIDENTS_GRACE"] = "soon"
	if _, err = Load("", envMap(env)); err == nil || err.Error() != `config: DAYTWO_INCIDENTS_GRACE="soon" is not a duration (e.g. 30s, 5m)` {
		t.Fatalf("malformed grace: %v", err)
	}
	delete(env, "DAYTWO_INCIDENTS_GRACE")
	bad := writeFile(t, "bad.yml", "incidents:\n  grace: -1s\n")
	if _, err = Load(bad, envMap(env)); err == nil || !strings.Contains(err.Error(), "incidents.grace and incidents.settle must be positive") {
		t.Fatalf("negative grace: %v", err)
	}
}
