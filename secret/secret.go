// Package secret seals callbridge's secrets at rest (OAuth tokens, install
// codes, provider credentials) with AES-256-GCM.
//
// A sealed value is the string "v1:" followed by the standard base64 encoding
// of a 12-byte random nonce and the GCM ciphertext (which carries a 16-byte
// authentication tag). The version prefix leaves room for key rotation.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix marks the format of sealed values.
const prefix = "v1:"

// ErrOpen is returned by Open for a value that is malformed, was sealed with
// another key, or was tampered with. The three cases are deliberately not
// distinguished.
var ErrOpen = errors.New("secret: cannot open sealed value")

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for key, which must be KeySize (32) bytes long.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plain with a fresh random nonce and returns
// "v1:" + base64(nonce‖ciphertext). Sealing the same value twice gives
// different strings.
func (b *Box) Seal(plain []byte) string {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	rand.Read(nonce) // never returns an error (crypto/rand, Go ≥ 1.24)
	sealed := b.aead.Seal(nonce, nonce, plain, nil)
	return prefix + base64.StdEncoding.EncodeToString(sealed)
}

// Open decrypts a value produced by Seal with the same key. It returns ErrOpen
// (wrapped) when s is malformed, sealed with another key or modified.
func (b *Box) Open(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("%w: unknown format", ErrOpen)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: bad encoding", ErrOpen)
	}
	ns := b.aead.NonceSize()
	if len(raw) < ns+b.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrOpen)
	}
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	return plain, nil
}

// LoadKey returns the sealing key. When envValue is not empty it is the key in
// standard (or URL-safe) base64. Otherwise the key is read from the file at
// path, which holds it in base64; when that file does not exist, a new random
// key is written there (mode 0600, parent directories created with mode 0700)
// so that a server runs with no configuration. Losing the file makes every
// stored secret unreadable.
func LoadKey(envValue, path string) ([]byte, error) {
	if envValue != "" {
		key, err := decodeKey(envValue)
		if err != nil {
			return nil, fmt.Errorf("secret: key from the environment: %w", err)
		}
		return key, nil
	}
	if path == "" {
		return nil, errors.New("secret: no key given and no key file path")
	}
	if data, err := os.ReadFile(path); err == nil {
		key, err := decodeKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("secret: key file %s: %w", path, err)
		}
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secret: %w", err)
	}

	key := make([]byte, KeySize)
	rand.Read(key)
	if err := createKeyFile(path, key); errors.Is(err, fs.ErrExist) {
		// Another process created it first: use theirs.
		return LoadKey("", path)
	} else if err != nil {
		return nil, fmt.Errorf("secret: writing key file: %w", err)
	}
	return key, nil
}

// createKeyFile writes key to path atomically: the complete file appears at
// path or nothing does. It returns an error wrapping fs.ErrExist when path
// already exists.
func createKeyFile(path string, key []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".callbridge-key-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Link fails when path exists, unlike Rename, so two processes starting
	// together agree on one key.
	return os.Link(tmp, path)
}

// decodeKey decodes a base64 key (standard or URL alphabet, padded or not) and
// checks its length.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}
