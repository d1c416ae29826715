package http

import (
	"bytes"
	"testing"
)

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1})
	f.Add([]byte{0x89, 0x80, 0, 0, 0, 0})
	f.Add([]byte{0x82, 0xFE, 0x01, 0x00})
	f.Add([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x08, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := readFrame(bytes.NewReader(data), 1024)
		if err != nil {
			return
		}
		if len(fr.Payload) > 1024 {
			t.Fatalf("payload of %d bytes above the limit", len(fr.Payload))
		}
		if fr.Opcode >= 0x8 && (!fr.Fin || len(fr.Payload) > 125) {
			t.Fatalf("invalid control frame accepted: %+v", fr)
		}
		// What was read re-encodes to a frame that reads back the same.
		again, err := readFrame(bytes.NewReader(appendFrame(nil, fr.Opcode, fr.Payload)), 1024)
		if err != nil || !bytes.Equal(again.Payload, fr.Payload) || again.Opcode != fr.Opcode {
			t.Fatalf("round trip: %+v, %v", again, err)
		}
	})
}

func TestReadFrame(t *testing.T) {
	masked := []byte{0x81, 0x82, 1, 2, 3, 4, 'o' ^ 1, 'k' ^ 2}
	fr, err := readFrame(bytes.NewReader(masked), 10)
	if err != nil || string(fr.Payload) != "ok" || !fr.Masked || !fr.Fin || fr.Opcode != opText {
		t.Fatalf("masked text: %+v %v", fr, err)
	}
	for name, b := range map[string][]byte{
		"ReservedBits":     {0xC1, 0x80, 0, 0, 0, 0},
		"FragmentedPing":   {0x09, 0x80, 0, 0, 0, 0},
		"LongControl":      {0x89, 0xFE, 0, 126},
		"UnknownOpcode":    {0x83, 0x80, 0, 0, 0, 0},
		"TopBitOfLength":   {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1},
		"TooBig":           {0x82, 0xFE, 0x10, 0x00},
		"TruncatedPayload": {0x81, 0x85, 1, 2, 3, 4, 'h'},
	} {
		if _, err := readFrame(bytes.NewReader(b), 1024); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got := wsAccept("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept key %q (RFC 6455's example)", got)
	}
}
