// Package config loads daytwo's server configuration: a YAML file, then environment
// variables (go-githubapp's GITHUB_* names plus DAYTWO_*), then validation. A server that
// would run insecurely or not at all refuses to start with a message naming the problem.
package config

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"gopkg.in/yaml.v3"
)

// Config is the whole server configuration.
type Config struct {
	// Address to listen on; DAYTWO_ADDR overrides it.
	Address string `yaml:"address"`
	// GitHub is go-githubapp's own configuration (web_url, v3_api_url, v4_api_url, app.*).
	GitHub githubapp.Config `yaml:"github"`
	// PrivateKeyFile is read when github.app.private_key is empty; GITHUB_APP_PRIVATE_KEY_FILE overrides it.
	PrivateKeyFile string  `yaml:"private_key_file"`
	Webhook        Webhook `yaml:"webhook"`
	// ShutdownTimeout bounds how long a stopping server drains queued events.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	Log             Log      `yaml:"log"`
	// ArgoCD is the Argo CD API server daytwo asks to refresh after a merge; optional.
	ArgoCD ArgoCD `yaml:"argocd"`
	// Redis lets several replicas share deliveries, locks and leadership; optional.
	Redis Redis `yaml:"redis"`
	// AI is an OpenAI-compatible endpoint for summaries and /ask; off when its endpoint is empty.
	AI AI `yaml:"ai"`
	// PreviousWebhookSecret is also accepted while a rotation is under way: the second item
	// of a github.app.webhook_secret list, or DAYTWO_PREVIOUS_WEBHOOK_SECRET.
	PreviousWebhookSecret string `yaml:"-"`
}

// WebhookSecrets are the secrets a delivery's signature may match: the current one first.
func (c *Config) WebhookSecrets() []string {
	if c.PreviousWebhookSecret == "" {
		return []string{c.GitHub.App.WebhookSecret}
	}
	return []string{c.GitHub.App.WebhookSecret, c.PreviousWebhookSecret}
}

// ArgoCD says how to reach argocd-server. An empty server turns the rollout follow-up off.
type ArgoCD struct {
	Server string `yaml:"server"` // host:port; DAYTWO_ARGOCD_SERVER overrides it
	// Token is an API token of an Argo CD account allowed to get, sync and refresh the
	// apps (argocd-cm accounts.<name>: apiKey); DAYTWO_ARGOCD_TOKEN overrides it.
	Token           string `yaml:"token"`
	PlainText       bool   `yaml:"plaintext"` // no TLS; DAYTWO_ARGOCD_PLAINTEXT overrides it
	Insecure        bool   `yaml:"insecure"`  // TLS without verifying the certificate; DAYTWO_ARGOCD_INSECURE
	CAFile          string `yaml:"ca_file"`   // DAYTWO_ARGOCD_CA_FILE
	GRPCWeb         bool   `yaml:"grpc_web"`  // for ingresses that do not pass HTTP/2
	GRPCWebRootPath string `yaml:"grpc_web_root_path"`
	AppNamespace    string `yaml:"app_namespace"`
}

// Enabled reports whether an Argo CD server is configured.
func (a ArgoCD) Enabled() bool { return strings.TrimSpace(a.Server) != "" }

// Webhook tunes how deliveries are received and queued.
type Webhook struct {
	// MaxBodyBytes refuses larger deliveries with 413 (GitHub caps payloads at 25 MB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// QueueSize is how many deliveries may wait for a worker; beyond it the answer is 503.
	QueueSize int `yaml:"queue_size"`
	Workers   int `yaml:"workers"`
	// DedupeCapacity is how many recent delivery ids are remembered to act on each once.
	DedupeCapacity int `yaml:"dedupe_capacity"`
}

// Log selects the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 30s, 2m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Defaults used for every key the file and the environment leave unset.
const (
	DefaultAddress         = ":8080"
	DefaultV3APIURL        = "https://api.github.com/"
	DefaultV4APIURL        = "https://api.github.com/graphql"
	DefaultWebURL          = "https://github.com"
	DefaultMaxBodyBytes    = 25 << 20
	DefaultQueueSize       = 100
	DefaultWorkers         = 4
	DefaultDedupeCapacity  = 10000
	DefaultShutdownTimeout = 30 * time.Second
	DefaultAITimeout       = 20 * time.Second
	maxConfigBytes         = 1 << 20
)

// Load reads the optional file at path ("" = none), applies the environment (env looks
// variables up, os.LookupEnv in production), fills defaults and validates.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := decode(io.LimitReader(f, maxConfigBytes+1), c); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		c.resolvePaths(filepath.Dir(path))
	}
	if err := c.applyEnv(env); err != nil {
		return nil, err
	}
	c.applyDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// resolvePaths makes the file's relative paths relative to its directory, so a config
// and the key beside it (as `daytwo setup` writes them) work from any working directory.
// Paths from the environment stay relative to the working directory.
func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{&c.PrivateKeyFile, &c.ArgoCD.CAFile, &c.Redis.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func decode(r io.Reader, c *Config) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(data) > maxConfigBytes {
		return fmt.Errorf("file is larger than %d bytes", maxConfigBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	// Name the key of a malformed duration, which the decoder cannot.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var previous string
	split := false
	if len(root.Content) == 1 {
		if err := checkDurations(root.Content[0], reflect.TypeOf(*c), ""); err != nil {
			return err
		}
		if previous, split, err = splitSecrets(root.Content[0]); err != nil {
			return err
		}
	}
	if split {
		// Decode the node, whose secret list splitSecrets has turned into the current secret.
		if data, err = yaml.Marshal(&root); err != nil {
			return err
		}
	}
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(c); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c.PreviousWebhookSecret = previous
	return nil
}

// splitSecrets lets github.app.webhook_secret be a list of the new and the old secret during
// a rotation: go-githubapp's config holds one string, so the list is replaced by its first
// item and the second is returned; split says the node changed.
func splitSecrets(doc *yaml.Node) (previous string, split bool, err error) {
	n := lookup(doc, "github", "app", "webhook_secret")
	if n == nil || n.Kind != yaml.SequenceNode {
		return "", false, nil
	}
	if len(n.Content) == 0 || len(n.Content) > 2 {
		return "", false, fmt.Errorf("github.app.webhook_secret: line %d: list the new secret, then the old one while GitHub switches (at most 2, got %d)", n.Line, len(n.Content))
	}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode || strings.TrimSpace(item.Value) == "" {
			return "", false, fmt.Errorf("github.app.webhook_secret: line %d: each secret is a non-empty string", item.Line)
		}
	}
	if len(n.Content) == 2 {
		previous = n.Content[1].Value
	}
	*n = *n.Content[0]
	return previous, true, nil
}

// lookup follows keys through nested mappings.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// checkDurations walks the mapping n as decoded into a value of type t and reports the
// dotted key of the first Duration whose value does not parse.
func checkDurations(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		if val.Kind == yaml.AliasNode && val.Alias != nil {
			val = val.Alias
		}
		for j := 0; j < t.NumField(); j++ {
			f := t.Field(j)
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != key {
				continue
			}
			if f.Type == reflect.TypeOf(Duration(0)) {
				if val.Tag == "!!null" {
					continue
				}
				if _, err := time.ParseDuration(val.Value); err != nil || val.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s%s: line %d: %q is not a duration (e.g. 30s, 2m)", path, key, val.Line, val.Value)
				}
			} else if err := checkDurations(val, f.Type, path+key+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Config) applyEnv(env func(string) (string, bool)) error {
	str := func(key string, dst *string) {
		if v, ok := env(key); ok {
			*dst = v
		}
	}
	str("DAYTWO_ADDR", &c.Address)
	str("GITHUB_WEB_URL", &c.GitHub.WebURL)
	str("GITHUB_V3_API_URL", &c.GitHub.V3APIURL)
	str("GITHUB_V4_API_URL", &c.GitHub.V4APIURL)
	str("GITHUB_APP_WEBHOOK_SECRET", &c.GitHub.App.WebhookSecret)
	str("DAYTWO_PREVIOUS_WEBHOOK_SECRET", &c.PreviousWebhookSecret)
	str("GITHUB_APP_PRIVATE_KEY", &c.GitHub.App.PrivateKey)
	str("GITHUB_APP_PRIVATE_KEY_FILE", &c.PrivateKeyFile)
	str("DAYTWO_LOG_LEVEL", &c.Log.Level)
	str("DAYTWO_LOG_FORMAT", &c.Log.Format)
	str("DAYTWO_ARGOCD_SERVER", &c.ArgoCD.Server)
	str("DAYTWO_ARGOCD_TOKEN", &c.ArgoCD.Token)
	if err := c.Redis.applyEnv(env); err != nil {
		return err
	}
	for key, dst := range map[string]*bool{"DAYTWO_ARGOCD_PLAINTEXT": &c.ArgoCD.PlainText, "DAYTWO_ARGOCD_INSECURE": &c.ArgoCD.Insecure} {
		if v, ok := env(key); ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("config: %s=%q is not true or false", key, v)
			}
			*dst = b
		}
	}
	str("DAYTWO_ARGOCD_CA_FILE", &c.ArgoCD.CAFile)
	if err := c.AI.applyEnv(env); err != nil {
		return err
	}
	// go-githubapp's SetValuesFromEnv ignores a malformed id silently; say so instead.
	if v, ok := env("GITHUB_APP_INTEGRATION_ID"); ok {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("config: GITHUB_APP_INTEGRATION_ID=%q is not a number", v)
		}
		c.GitHub.App.IntegrationID = id
	}
	return nil
}

func (c *Config) applyDefaults() {
	if c.Address == "" {
		c.Address = DefaultAddress
	}
	if c.GitHub.WebURL == "" {
		c.GitHub.WebURL = DefaultWebURL
	}
	if c.GitHub.V3APIURL == "" {
		c.GitHub.V3APIURL = DefaultV3APIURL
	}
	if c.GitHub.V4APIURL == "" {
		c.GitHub.V4APIURL = DefaultV4APIURL
	}
	if c.Webhook.MaxBodyBytes == 0 {
		c.Webhook.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Webhook.QueueSize == 0 {
		c.Webhook.QueueSize = DefaultQueueSize
	}
	if c.Webhook.Workers == 0 {
		c.Webhook.Workers = DefaultWorkers
	}
	if c.Webhook.DedupeCapacity == 0 {
		c.Webhook.DedupeCapacity = DefaultDedupeCapacity
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	}
	if c.AI.Enabled() && c.AI.Timeout == 0 {
		c.AI.Timeout = Duration(DefaultAITimeout)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
}

func (c *Config) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if c.GitHub.App.IntegrationID <= 0 {
		add("the GitHub App id is missing: set github.app.integration_id or GITHUB_APP_INTEGRATION_ID")
	}
	if strings.TrimSpace(c.GitHub.App.WebhookSecret) == "" {
		add("the webhook secret is missing: set github.app.webhook_secret or GITHUB_APP_WEBHOOK_SECRET (unsigned webhooks are never accepted)")
	}
	if c.PreviousWebhookSecret != "" && c.PreviousWebhookSecret == c.GitHub.App.WebhookSecret {
		add("the previous webhook secret equals the current one: a rotation lists the new secret first, then the old one")
	}
	if c.GitHub.App.PrivateKey == "" && c.PrivateKeyFile != "" {
		key, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			add("the private key file cannot be read: %v", err)
		} else {
			c.GitHub.App.PrivateKey = string(key)
		}
	}
	switch {
	case c.GitHub.App.PrivateKey == "" && c.PrivateKeyFile == "":
		add("the GitHub App private key is missing: set GITHUB_APP_PRIVATE_KEY (PEM) or GITHUB_APP_PRIVATE_KEY_FILE (path), or github.app.private_key / private_key_file")
	case c.GitHub.App.PrivateKey != "":
		if _, err := ParsePrivateKey([]byte(c.GitHub.App.PrivateKey)); err != nil {
			add("the GitHub App private key is not usable: %v", err)
		}
	}
	for name, u := range map[string]string{"github.v3_api_url": c.GitHub.V3APIURL, "github.v4_api_url": c.GitHub.V4APIURL, "github.web_url": c.GitHub.WebURL} {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			add("%s %q is not an http(s) URL", name, u)
		}
	}
	if c.Webhook.MaxBodyBytes < 0 || c.Webhook.QueueSize < 0 || c.Webhook.Workers < 0 || c.Webhook.DedupeCapacity < 0 {
		add("webhook sizes must be positive")
	}
	if c.ShutdownTimeout < 0 {
		add("shutdown_timeout must be positive")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		add("log.format %q is not one of json, text", c.Log.Format)
	}
	if a := c.ArgoCD; a.Enabled() {
		if strings.Contains(a.Server, "://") || strings.Contains(a.Server, "/") {
			add("argocd.server %q must be host:port, without a scheme or path (use grpc_web_root_path for a path)", a.Server)
		}
		if strings.TrimSpace(a.Token) == "" {
			add("argocd.server is set but the token is missing: set argocd.token or DAYTWO_ARGOCD_TOKEN to an API token of an account allowed to get, sync and refresh applications")
		}
		if a.PlainText && (a.Insecure || a.CAFile != "") {
			add("argocd.plaintext turns TLS off; insecure and ca_file apply to TLS only")
		}
		if a.CAFile != "" {
			if _, err := os.Stat(a.CAFile); err != nil {
				add("argocd.ca_file cannot be read: %v", err)
			}
		}
	} else if c.ArgoCD.Token != "" {
		add("argocd.token is set but argocd.server is not: set argocd.server (host:port) or drop the token")
	}
	problems = append(problems, c.Redis.problems()...)
	problems = append(problems, c.AI.problems()...)
	if len(problems) > 0 {
		return fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Redis is where replicas coordinate. Nothing set (no url, address or sentinel) = a lone
// process coordinating with itself.
type Redis struct {
	// URL is redis://[user:password@]host:port[/db], rediss:// for TLS, or
	// unix://[user:password@]/path/redis.sock[?db=N]. DAYTWO_REDIS_URL overrides it.
	URL string `yaml:"url"`
	// Address is host:port, the alternative to URL; DAYTWO_REDIS_ADDR overrides it.
	Address  string `yaml:"address"`
	Username string `yaml:"username"` // an ACL user (Redis 6+); default: the default user
	// Password; DAYTWO_REDIS_PASSWORD overrides it and the URL's. Never logged.
	Password           string        `yaml:"password"`
	DB                 int           `yaml:"db"`
	TLS                bool          `yaml:"tls"`
	CAFile             string        `yaml:"ca_file"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	Sentinel           RedisSentinel `yaml:"sentinel"`
	KeyPrefix          string        `yaml:"key_prefix"` // every key daytwo writes starts with it
	LockTTL            Duration      `yaml:"lock_ttl"`   // a target's lock not renewed for this long is free
	LeaseTTL           Duration      `yaml:"lease_ttl"`  // a leader not renewing for this long is replaced
	// ClaimIdle is how long a delivery taken by a replica that stopped renewing it waits
	// before another replica takes it over.
	ClaimIdle Duration `yaml:"claim_idle"`
}

// RedisSentinel finds the Redis master through Sentinel.
type RedisSentinel struct {
	Master    string   `yaml:"master"`    // the master's name in Sentinel
	Addresses []string `yaml:"addresses"` // host:port of sentinels
	Password  string   `yaml:"password"`  // the sentinels' own requirepass, when set
}

// DefaultRedisKeyPrefix starts every Redis key unless redis.key_prefix says otherwise.
const DefaultRedisKeyPrefix = "daytwo:"

// minRedisTTL keeps the renewal periods (a third of each) well above network latency.
const minRedisTTL = time.Second

// Enabled reports whether Redis is configured.
func (r Redis) Enabled() bool {
	return strings.TrimSpace(r.URL) != "" || strings.TrimSpace(r.Address) != "" ||
		r.Sentinel.Master != "" || len(r.Sentinel.Addresses) > 0
}

// Prefix is the key prefix, defaulted.
func (r Redis) Prefix() string {
	if r.KeyPrefix == "" {
		return DefaultRedisKeyPrefix
	}
	return r.KeyPrefix
}

// UseTLS reports whether connections use TLS: tls: true, or a rediss:// URL.
func (r Redis) UseTLS() bool {
	return r.TLS || strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.URL)), "rediss://")
}

// String describes the endpoint for logs, without any password.
func (r Redis) String() string {
	switch {
	case !r.Enabled():
		return "none"
	case r.Sentinel.Master != "":
		return fmt.Sprintf("sentinel master %q via %s (db %d)", r.Sentinel.Master, strings.Join(r.Sentinel.Addresses, ","), r.DB)
	case r.URL != "":
		u, err := url.Parse(r.URL)
		if err != nil {
			return "an invalid URL"
		}
		return u.Redacted()
	default:
		return fmt.Sprintf("%s (db %d, tls %t)", r.Address, r.DB, r.TLS)
	}
}

// applyEnv: DAYTWO_REDIS_URL or DAYTWO_REDIS_ADDR, when not empty, replace whatever
// endpoint the file names (url, address, sentinel; the URL also db and tls, which it
// carries); DAYTWO_REDIS_PASSWORD replaces the password.
func (r *Redis) applyEnv(env func(string) (string, bool)) error {
	u, _ := env("DAYTWO_REDIS_URL")
	a, _ := env("DAYTWO_REDIS_ADDR")
	u, a = strings.TrimSpace(u), strings.TrimSpace(a)
	switch {
	case u != "" && a != "":
		return errors.New("config: DAYTWO_REDIS_URL and DAYTWO_REDIS_ADDR are both set: set one")
	case u != "":
		r.URL, r.Address, r.Sentinel, r.DB, r.TLS = u, "", RedisSentinel{}, 0, false
	case a != "":
		r.URL, r.Address, r.Sentinel = "", a, RedisSentinel{}
	}
	if v, ok := env("DAYTWO_REDIS_PASSWORD"); ok {
		r.Password = v
	}
	return nil
}

// problems lists what is wrong with the redis block, in validate's words.
func (r Redis) problems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, d := range []struct {
		key string
		v   Duration
	}{{"lock_ttl", r.LockTTL}, {"lease_ttl", r.LeaseTTL}, {"claim_idle", r.ClaimIdle}} {
		if d.v != 0 && time.Duration(d.v) < minRedisTTL {
			add("redis.%s %s is too short: at least %s", d.key, time.Duration(d.v), minRedisTTL)
		}
	}
	if r.DB < 0 {
		add("redis.db %d must not be negative", r.DB)
	}
	if !r.Enabled() {
		if r.Password != "" || r.Username != "" || r.TLS || r.CAFile != "" || r.InsecureSkipVerify || r.DB != 0 || r.KeyPrefix != "" ||
			r.LockTTL != 0 || r.LeaseTTL != 0 || r.ClaimIdle != 0 || r.Sentinel.Password != "" {
			add("redis settings are given but no server: set redis.url (DAYTWO_REDIS_URL), redis.address (DAYTWO_REDIS_ADDR) or redis.sentinel, or drop the redis settings (DAYTWO_REDIS_PASSWORD included)")
		}
		return out
	}
	sentinel := r.Sentinel.Master != "" || len(r.Sentinel.Addresses) > 0
	switch {
	case r.URL != "" && r.Address != "":
		add("redis.url and redis.address are exclusive: set one")
	case sentinel && (r.URL != "" || r.Address != ""):
		add("redis.sentinel finds the master itself: drop redis.url and redis.address")
	}
	if sentinel {
		if strings.TrimSpace(r.Sentinel.Master) == "" {
			add("redis.sentinel needs master (the master's name in Sentinel)")
		}
		if len(r.Sentinel.Addresses) == 0 {
			add("redis.sentinel needs addresses (host:port of the sentinels)")
		}
		for _, a := range r.Sentinel.Addresses {
			if !isHostPort(a) {
				add("redis.sentinel.addresses: %q is not host:port", a)
			}
		}
	}
	if r.Address != "" && !isHostPort(r.Address) {
		add("redis.address %q is not host:port", r.Address)
	}
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error quotes the whole URL, password included
		}
		switch {
		case err != nil:
			add("redis.url is not a URL: %v", err)
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			add("redis.url must start with redis://, rediss:// (TLS) or unix://, not %q", u.Scheme+"://")
		case u.Scheme != "unix" && u.Host == "":
			add("redis.url names no host")
		case u.Scheme == "unix" && u.Path == "":
			add("redis.url names no socket path")
		}
		if r.DB != 0 {
			add("redis.db applies to address and sentinel; with redis.url put the db in the URL (redis://host:6379/%d)", r.DB)
		}
		if r.TLS && err == nil && u.Scheme != "rediss" {
			add("redis.tls with redis.url: use a rediss:// URL instead")
		}
	}
	if (r.CAFile != "" || r.InsecureSkipVerify) && !r.UseTLS() {
		add("redis.ca_file and redis.insecure_skip_verify apply to TLS only: set redis.tls (or use a rediss:// URL)")
	}
	if r.CAFile != "" && r.UseTLS() {
		if _, err := os.Stat(r.CAFile); err != nil {
			add("redis.ca_file cannot be read: %v", err)
		}
	}
	return out
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n < 65536
}

// ParsePrivateKey accepts an RSA key in PKCS#1 or PKCS#8 PEM, as GitHub issues them.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found (expected -----BEGIN RSA PRIVATE KEY-----)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PEM block %q is not an RSA private key", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("PEM block holds a %T, GitHub App keys are RSA", k)
	}
	return rk, nil
}

// AI names an OpenAI-compatible chat-completions API (OpenAI, Azure OpenAI, Ollama, vLLM)
// that writes summaries and answers /ask from facts daytwo gathered. Off when Endpoint is
// empty, the default.
type AI struct {
	// Endpoint is the API's base URL: https://api.openai.com/v1, http://ollama:11434/v1,
	// or for Azure OpenAI the resource, https://NAME.openai.azure.com. DAYTWO_AI_ENDPOINT.
	Endpoint string `yaml:"endpoint"`
	// Model is the model, or on Azure the deployment; DAYTWO_AI_MODEL.
	Model string `yaml:"model"`
	// TokenEnv names the environment variable holding the API token, so that the token
	// is never in the file; empty for an endpoint without authentication. DAYTWO_AI_TOKEN_ENV.
	TokenEnv string `yaml:"token_env"`
	// Timeout bounds one answer (default 20s); DAYTWO_AI_TIMEOUT.
	Timeout Duration `yaml:"timeout"`
	// APIVersion selects Azure OpenAI (its api-version, e.g. 2024-06-01): deployments
	// paths and the api-key header. DAYTWO_AI_API_VERSION.
	APIVersion string `yaml:"api_version"`
	// Token is read from the variable TokenEnv names; never from the file.
	Token string `yaml:"-"`
}

// Enabled reports whether an AI endpoint is configured.
func (a AI) Enabled() bool { return strings.TrimSpace(a.Endpoint) != "" }

// Azure reports whether the endpoint is Azure OpenAI, which api_version says.
func (a AI) Azure() bool { return a.APIVersion != "" }

// applyEnv applies the DAYTWO_AI_* variables, then reads the token from the variable
// token_env names.
func (a *AI) applyEnv(env func(string) (string, bool)) error {
	for key, dst := range map[string]*string{
		"DAYTWO_AI_ENDPOINT": &a.Endpoint, "DAYTWO_AI_MODEL": &a.Model,
		"DAYTWO_AI_TOKEN_ENV": &a.TokenEnv, "DAYTWO_AI_API_VERSION": &a.APIVersion,
	} {
		if v, ok := env(key); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	if v, ok := env("DAYTWO_AI_TIMEOUT"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("config: DAYTWO_AI_TIMEOUT=%q is not a duration (e.g. 20s)", v)
		}
		a.Timeout = Duration(d)
	}
	if a.TokenEnv != "" {
		a.Token, _ = env(a.TokenEnv)
		a.Token = strings.TrimSpace(a.Token)
	}
	return nil
}

// envNameRE is what a shell accepts as a variable name.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// problems lists what is wrong with the ai block, in validate's words.
func (a AI) problems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !a.Enabled() {
		if a.Model != "" || a.TokenEnv != "" || a.Timeout != 0 || a.APIVersion != "" {
			add("ai settings are given but no endpoint: set ai.endpoint (DAYTWO_AI_ENDPOINT) to the API's base URL, or drop the ai settings (AI stays off)")
		}
		return out
	}
	u, err := url.Parse(a.Endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		add("ai.endpoint %q is not an http(s) base URL without query or credentials (e.g. https://api.openai.com/v1)", a.Endpoint)
	}
	if strings.TrimSpace(a.Model) == "" {
		add("ai.endpoint is set but ai.model is not: name the model (on Azure OpenAI, the deployment)")
	}
	switch {
	case a.TokenEnv != "" && !envNameRE.MatchString(a.TokenEnv):
		add("ai.token_env %q is not an environment variable name: it names the variable holding the token, never the token itself", a.TokenEnv)
	case a.TokenEnv != "" && a.Token == "":
		add("ai.token_env names %s, which is not set or empty: export the API token in it", a.TokenEnv)
	case a.TokenEnv == "" && a.Azure():
		add("ai.api_version selects Azure OpenAI, which needs a key: set ai.token_env to the variable holding it")
	}
	if a.Timeout < 0 {
		add("ai.timeout must be positive")
	}
	return out
}
