package coord

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"

	"github.com/daytwo-dev/daytwo/internal/config"
)

// selfSigned makes a certificate for 127.0.0.1 and writes it, as a CA file, to dir.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redis test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

// TLS: verified with ca_file, refused without it, accepted unverified on request; by
// address + tls and by rediss:// URL.
func TestOpenTLS(t *testing.T) {
	cert, ca := selfSigned(t)
	m, err := miniredis.RunTLS(&tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	m.Server().SetPreHook(infoServer(miniVersion))
	ctx := ctxFor(t, 10*time.Second)
	for _, cfg := range []config.Redis{
		{Address: m.Addr(), TLS: true, CAFile: ca},
		{URL: "rediss://" + m.Addr(), CAFile: ca},
		{Address: m.Addr(), TLS: true, InsecureSkipVerify: true},
	} {
		r, err := Open(ctx, cfg, "a", testTiming)
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		if _, err := r.Add(ctx, Delivery{ID: "x"}); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if _, err := Open(ctx, config.Redis{Address: m.Addr(), TLS: true}, "a", testTiming); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an unknown CA was accepted: %v", err)
	}
	if _, err := Open(ctx, config.Redis{Address: m.Addr()}, "a", testTiming); err == nil {
		t.Fatal("plaintext to a TLS server worked")
	}
	if _, err := Open(ctx, config.Redis{Address: m.Addr(), TLS: true, CAFile: "/nonexistent/ca.pem"}, "a", testTiming); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("missing CA file: %v", err)
	}
}

// Sentinel: the client asks the sentinels for the master by name and works on it. The
// sentinel here is a miniredis answering SENTINEL as a real one would.
func TestOpenSentinel(t *testing.T) {
	master := startMini(t)
	master.RequireAuth("master-pw")
	host, port, _ := net.SplitHostPort(master.Addr())
	sentinel := miniredis.RunT(t)
	sentinel.RequireAuth("sentinel-pw")
	asked := make(chan string, 100)
	err := sentinel.Server().Register("SENTINEL", func(c *server.Peer, cmd string, args []string) {
		if len(args) == 0 {
			c.WriteError("ERR wrong number of arguments")
			return
		}
		switch sub := strings.ToLower(args[0]); {
		case sub == "get-master-addr-by-name" && len(args) == 2 && args[1] == "mymaster":
			asked <- args[1]
			c.WriteLen(2)
			c.WriteBulk(host)
			c.WriteBulk(port)
		case sub == "get-master-addr-by-name":
			c.WriteNull()
		case sub == "sentinels" || sub == "replicas" || sub == "slaves":
			c.WriteLen(0)
		default:
			c.WriteError("ERR unknown SENTINEL subcommand " + sub)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Redis{
		Password: "master-pw", DB: 2,
		Sentinel: config.RedisSentinel{Master: "mymaster", Addresses: []string{sentinel.Addr()}, Password: "sentinel-pw"},
	}
	ctx := ctxFor(t, 10*time.Second)
	r, err := Open(ctx, cfg, "a", testTiming)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Add(ctx, Delivery{ID: "via-sentinel"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	default:
		t.Fatal("the sentinel was not asked for the master")
	}
	master.Select(2)
	if !master.Exists("daytwo:delivery:via-sentinel") {
		t.Fatalf("the delivery is not in db 2 of the master: %v", master.Keys())
	}

	cfg.Sentinel.Master = "othermaster"
	if _, err := Open(ctx, cfg, "a", testTiming); err == nil {
		t.Fatal("opened a master the sentinels do not know")
	}
}
