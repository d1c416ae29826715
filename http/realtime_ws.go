package http

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"time"

	"callbridge"
)

// A minimal WebSocket server (RFC 6455), enough for the widget's realtime
// channel: the server sends text messages and pings; the browser sends
// nothing but pongs, pings and the closing handshake. No extensions, no
// subprotocols, no compression.

// WebSocket limits.
const (
	// maxClientFrame bounds one frame (and one message) from a client. The
	// widget sends nothing larger than a small JSON object.
	maxClientFrame = 4 << 10
	// wsWriteTimeout bounds writing one frame to a client.
	wsWriteTimeout = 10 * time.Second
	// wsGUID is the key suffix of the opening handshake (RFC 6455 §1.3).
	wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes used by callbridge.
const (
	closeNormal        = 1000
	closeGoingAway     = 1001 // the server is shutting down
	closeProtocolError = 1002
	closeTooBig        = 1009
	closePolicy        = 1008
)

// wsFrame is one frame as read from a client, unmasked.
type wsFrame struct {
	Fin     bool
	Opcode  byte
	Masked  bool
	Payload []byte
}

// errFrameTooBig is returned by readFrame for a payload above the limit.
var errFrameTooBig = errors.New("websocket: frame too big")

// errProtocol is returned by readFrame for a malformed frame.
var errProtocol = errors.New("websocket: protocol error")

// readFrame reads one frame of at most maxPayload payload bytes. Clients
// must mask their frames (RFC 6455 §5.1), reserved bits must be zero (no
// extension is negotiated), control frames must be final and at most 125
// bytes, and lengths must use the shortest encoding's rules (the 64-bit
// length's top bit is zero).
func readFrame(r io.Reader, maxPayload int64) (wsFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return wsFrame{}, err
	}
	f := wsFrame{Fin: h[0]&0x80 != 0, Opcode: h[0] & 0x0F, Masked: h[1]&0x80 != 0}
	if h[0]&0x70 != 0 {
		return wsFrame{}, errProtocol
	}
	switch f.Opcode {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !f.Fin || h[1]&0x7F > 125 {
			return wsFrame{}, errProtocol
		}
	default:
		return wsFrame{}, errProtocol
	}
	n := int64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return wsFrame{}, err
		}
		n = int64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return wsFrame{}, err
		}
		u := binary.BigEndian.Uint64(b[:])
		if u>>63 != 0 {
			return wsFrame{}, errProtocol
		}
		n = int64(u)
	}
	if n > maxPayload {
		return wsFrame{}, errFrameTooBig
	}
	var mask [4]byte
	if f.Masked {
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return wsFrame{}, err
		}
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return wsFrame{}, err
	}
	if f.Masked {
		for i := range f.Payload {
			f.Payload[i] ^= mask[i%4]
		}
	}
	return f, nil
}

// appendFrame appends an unmasked, final server frame to dst.
func appendFrame(dst []byte, opcode byte, payload []byte) []byte {
	dst = append(dst, 0x80|opcode)
	switch n := len(payload); {
	case n <= 125:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// wsAccept returns the Sec-WebSocket-Accept value for a client key.
func wsAccept(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(wsGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// headerHasToken reports whether a comma-separated header contains token
// (case-insensitive).
func headerHasToken(h nethttp.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// checkUpgrade validates a WebSocket opening handshake request (RFC 6455
// §4.2.1) and returns the client's key.
func checkUpgrade(r *nethttp.Request) (string, error) {
	bad := func(msg string) (string, error) {
		return "", callbridge.Errorf(callbridge.EINVALID, "%s", msg)
	}
	if r.Method != nethttp.MethodGet {
		return bad("A WebSocket handshake must be a GET.")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return bad("This endpoint only speaks WebSocket.")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return bad("Unsupported WebSocket version; 13 is required.")
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return bad("Invalid Sec-WebSocket-Key.")
	}
	return key, nil
}

// wsConn is a server-side WebSocket connection. Writes are serialised by a
// mutex; one goroutine reads.
type wsConn struct {
	conn net.Conn
	br   *bufio.Reader

	wmu    sync.Mutex
	closed bool
}

// upgrade completes the opening handshake on w (which must support
// hijacking) and returns the connection. On error nothing was written
// unless the error says so.
func upgrade(w nethttp.ResponseWriter, key string) (*wsConn, error) {
	conn, brw, err := nethttp.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	// Clear the server's read and write deadlines: the connection lives on.
	_ = conn.SetDeadline(time.Time{})
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + wsAccept(key) + "\r\n\r\n"
	_ = conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	if _, err := conn.Write([]byte(resp)); err != nil {
		conn.Close()
		return nil, err
	}
	return &wsConn{conn: conn, br: brw.Reader}, nil
}

// write sends one frame.
func (c *wsConn) write(opcode byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	_, err := c.conn.Write(appendFrame(nil, opcode, payload))
	return err
}

// close sends a close frame with code and reason (best effort) and closes
// the connection. It is safe to call more than once.
func (c *wsConn) close(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	if len(reason) > 120 {
		reason = reason[:120]
	}
	p = append(p, reason...)
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.conn.Write(appendFrame(nil, opClose, p))
	_ = c.conn.Close()
}

// readLoop reads client frames until the connection ends, answering pings
// and the closing handshake. onActivity is called for every frame (the
// liveness signal). Data messages are read and discarded. It returns when
// the client closes, misbehaves or the connection fails (idle: the read
// deadline set by the caller passes).
func (c *wsConn) readLoop(idle time.Duration, onActivity func()) {
	defer c.close(closeNormal, "")
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(idle))
		f, err := readFrame(c.br, maxClientFrame)
		switch {
		case errors.Is(err, errFrameTooBig):
			c.close(closeTooBig, "message too big")
			return
		case err != nil:
			if errors.Is(err, errProtocol) {
				c.close(closeProtocolError, "protocol error")
			}
			return
		case !f.Masked:
			c.close(closeProtocolError, "client frames must be masked")
			return
		}
		onActivity()
		switch f.Opcode {
		case opPing:
			if err := c.write(opPong, f.Payload); err != nil {
				return
			}
		case opClose:
			return // the deferred close answers with 1000
		}
	}
}
