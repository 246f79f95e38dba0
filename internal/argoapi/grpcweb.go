package argoapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// grpcWebProxy carries the client's gRPC calls to argocd-server as gRPC-web requests
// (HTTP POSTs with length-prefixed frames), for ingresses that do not pass HTTP/2. It is
// the approach of argo-cd's own client (pkg/apiclient/grpcproxy.go), hand-written because
// that package links kubectl into the binary and no maintained Go gRPC-web client exists:
// the gRPC connection goes to an in-process server, in memory, that forwards each call's
// request message and streams back the response messages and status.
type grpcWebProxy struct {
	base string // scheme://host:port[/root path]
	http *http.Client
	lis  *bufconn.Listener // bufconn: an in-memory listener, no socket file needed
	srv  *grpc.Server
}

const (
	frameHeaderLen  = 5    // flags byte, 4-byte big-endian length
	frameTrailer    = 0x80 // the frame holds the trailers (grpc-status, grpc-message)
	frameCompressed = 0x01
)

func newGRPCWebProxy(opts Options, tlsConf *tls.Config) *grpcWebProxy {
	scheme := "https"
	if opts.PlainText {
		scheme = "http"
	}
	base := scheme + "://" + opts.Server
	if root := strings.Trim(opts.GRPCWebRootPath, "/"); root != "" {
		base += "/" + root
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	p := &grpcWebProxy{base: base, http: &http.Client{Transport: tr}, lis: bufconn.Listen(1 << 20)}
	p.srv = grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(maxMessageSize), grpc.MaxSendMsgSize(maxMessageSize),
		grpc.UnknownServiceHandler(p.forward),
	)
	go func() { _ = p.srv.Serve(p.lis) }()
	return p
}

func (p *grpcWebProxy) dial(ctx context.Context, _ string) (net.Conn, error) {
	return p.lis.DialContext(ctx)
}

func (p *grpcWebProxy) close() {
	p.srv.Stop()
	p.http.CloseIdleConnections()
}

// forward makes one call: unary or server-streaming, the only kinds gRPC-web carries and
// the only ones daytwo uses.
func (p *grpcWebProxy) forward(_ any, stream grpc.ServerStream) error {
	ctx := stream.Context()
	method, ok := grpc.MethodFromServerStream(stream)
	if !ok {
		return status.Error(codes.Internal, "grpc-web: the call has no method")
	}
	var msg []byte
	if err := stream.RecvMsg(&msg); err != nil {
		return err
	}
	body := make([]byte, frameHeaderLen+len(msg))
	binary.BigEndian.PutUint32(body[1:frameHeaderLen], uint32(len(msg)))
	copy(body[frameHeaderLen:], msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+method, bytes.NewReader(body))
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "grpc-web: %v", err)
	}
	// The call's metadata (the token, the user agent) travels as HTTP headers.
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		if strings.HasPrefix(k, ":") || k == "content-type" || k == "te" {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	req.Header.Set("Accept", "application/grpc-web+proto")
	req.Header.Set("X-Grpc-Web", "1")

	resp, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		return status.Errorf(codes.Unavailable, "grpc-web: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return status.Errorf(httpStatusCode(resp.StatusCode), "grpc-web: POST %s answered HTTP %d (check argocd.server and grpc_web_root_path)", req.URL.Redacted(), resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/grpc-web") {
		return status.Errorf(codes.Unknown, "grpc-web: POST %s answered %q, not gRPC-web (check argocd.server and grpc_web_root_path)", req.URL.Redacted(), ct)
	}
	// A call that fails before any message may carry its status in the headers alone.
	if err := statusOf(textproto.MIMEHeader(resp.Header), false); err != nil {
		return err
	}
	r := bufio.NewReader(resp.Body)
	for {
		var hdr [frameHeaderLen]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				// No trailer frame: the headers had the status, or the answer was cut.
				return statusOf(textproto.MIMEHeader(resp.Header), true)
			}
			return readError(ctx, err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxMessageSize {
			return status.Errorf(codes.ResourceExhausted, "grpc-web: a message of %d bytes is over the %d-byte limit", n, maxMessageSize)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return readError(ctx, err)
		}
		switch {
		case hdr[0]&frameTrailer != 0:
			trailers, err := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(data), strings.NewReader("\r\n")))).ReadMIMEHeader()
			if err != nil {
				return status.Errorf(codes.Internal, "grpc-web: unreadable trailers: %v", err)
			}
			return statusOf(trailers, true)
		case hdr[0]&frameCompressed != 0:
			return status.Error(codes.Internal, "grpc-web: the server compressed a message though no compression was offered")
		}
		if err := stream.SendMsg(&data); err != nil {
			return err
		}
	}
}

// statusOf reads grpc-status and grpc-message; required says a missing status is an error.
func statusOf(h textproto.MIMEHeader, required bool) error {
	s := h.Get("Grpc-Status")
	if s == "" {
		if required {
			return status.Error(codes.Internal, "grpc-web: the answer ended without a grpc-status")
		}
		return nil
	}
	code, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return status.Errorf(codes.Unknown, "grpc-web: grpc-status %q is not a number", s)
	}
	if code == 0 {
		return nil
	}
	msg := h.Get("Grpc-Message")
	if m, err := url.PathUnescape(msg); err == nil { // percent-encoded, per the gRPC protocol
		msg = m
	}
	return status.Error(codes.Code(code), msg)
}

func readError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Errorf(codes.Unavailable, "grpc-web: the answer was cut: %v", err)
}

// httpStatusCode maps an HTTP status to a gRPC code as gRPC's own HTTP/2 client does
// (doc/http-grpc-status-mapping.md).
func httpStatusCode(s int) codes.Code {
	switch s {
	case http.StatusBadRequest:
		return codes.Internal
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.Unimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codes.Unavailable
	}
	return codes.Unknown
}

// rawCodec passes messages through as bytes: the proxy forwards them undecoded.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("grpc-web: cannot forward %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpc-web: cannot forward into %T", v)
	}
	*b = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }
