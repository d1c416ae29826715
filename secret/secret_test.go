package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"callbridge/secret"
)

func mustBox(t *testing.T, fill byte) *secret.Box {
	t.Helper()
	b, err := secret.New(bytes.Repeat([]byte{fill}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBox_RoundTrip(t *testing.T) {
	b := mustBox(t, 1)
	for _, plain := range []string{"", "x", "refresh-token-123", strings.Repeat("long", 5000)} {
		s := b.Seal([]byte(plain))
		if !strings.HasPrefix(s, "v1:") {
			t.Fatalf("Seal=%q, want v1: prefix", s)
		}
		// ("-" is not in the base64 alphabet, so this cannot match by chance.)
		if strings.Contains(plain, "-") && strings.Contains(s, plain) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := b.Open(s)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if string(got) != plain {
			t.Fatalf("Open=%q, want %q", got, plain)
		}
	}
	if a, c := b.Seal([]byte("same")), b.Seal([]byte("same")); a == c {
		t.Fatal("two seals of the same value are equal; nonce not random")
	}
}

func TestBox_Tamper(t *testing.T) {
	b := mustBox(t, 1)
	s := b.Seal([]byte("access-token"))
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "v1:"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		mod := bytes.Clone(raw)
		mod[i] ^= 0x01
		if _, err := b.Open("v1:" + base64.StdEncoding.EncodeToString(mod)); !errors.Is(err, secret.ErrOpen) {
			t.Fatalf("byte %d flipped: err=%v, want ErrOpen", i, err)
		}
	}
	for _, bad := range []string{"", "v1:", "v1:!!!", "v2:" + strings.TrimPrefix(s, "v1:"), "plain", "v1:" + base64.StdEncoding.EncodeToString(raw[:10])} {
		if _, err := b.Open(bad); !errors.Is(err, secret.ErrOpen) {
			t.Fatalf("Open(%q): err=%v, want ErrOpen", bad, err)
		}
	}
}

func TestBox_WrongKey(t *testing.T) {
	s := mustBox(t, 1).Seal([]byte("credentials"))
	if _, err := mustBox(t, 2).Open(s); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("err=%v, want ErrOpen", err)
	}
}

func TestNew_KeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := secret.New(make([]byte, n)); err == nil {
			t.Fatalf("New with %d-byte key: want error", n)
		}
	}
}

func TestLoadKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	enc := base64.StdEncoding.EncodeToString(key)

	t.Run("Env", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		for _, v := range []string{enc, " " + enc + "\n", base64.RawURLEncoding.EncodeToString(key)} {
			got, err := secret.LoadKey(v, path)
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("LoadKey(%q)=%x, %v", v, got, err)
			}
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("key file created although the environment gave a key: %v", err)
		}
	})
	t.Run("EnvInvalid", func(t *testing.T) {
		for _, v := range []string{"not base64 ###", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
			if _, err := secret.LoadKey(v, ""); err == nil {
				t.Fatalf("LoadKey(%q): want error", v)
			}
		}
	})
	t.Run("ExistingFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(path, []byte(enc+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := secret.LoadKey("", path)
		if err != nil || !bytes.Equal(got, key) {
			t.Fatalf("LoadKey=%x, %v", got, err)
		}
	})
	t.Run("CreatesFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "dir", "key")
		k1, err := secret.LoadKey("", path)
		if err != nil {
			t.Fatal(err)
		}
		if len(k1) != secret.KeySize {
			t.Fatalf("len=%d", len(k1))
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Fatalf("mode=%v, want 0600", perm)
		}
		k2, err := secret.LoadKey("", path)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("second load=%x, %v; want %x", k2, err, k1)
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		if len(entries) != 1 {
			t.Fatalf("directory holds %d entries, want only the key file", len(entries))
		}
	})
	t.Run("ConcurrentCreateAgrees", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		var wg sync.WaitGroup
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = secret.LoadKey("", path) })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("loader %d got a different key", i)
			}
		}
	})
	t.Run("CorruptFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "key")
		os.WriteFile(path, []byte("garbage"), 0o600)
		if _, err := secret.LoadKey("", path); err == nil {
			t.Fatal("want error for a corrupt key file")
		}
	})
}

func FuzzOpen(f *testing.F) {
	b, _ := secret.New(bytes.Repeat([]byte{1}, secret.KeySize))
	f.Add(b.Seal([]byte("hello")))
	f.Add("v1:")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		plain, err := b.Open(s)
		if err != nil {
			if !errors.Is(err, secret.ErrOpen) {
				t.Fatalf("Open(%q): error %v does not wrap ErrOpen", s, err)
			}
			return
		}
		// Only a value sealed with this key opens; re-sealing round-trips.
		if !strings.HasPrefix(s, "v1:") {
			t.Fatalf("Open(%q) succeeded without the v1: prefix", s)
		}
		again, err := b.Open(b.Seal(plain))
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("round trip of %q: %q, %v", plain, again, err)
		}
	})
}
