package widget_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"callbridge/widget"
)

var update = flag.Bool("update", false, "rewrite src/images from widget.Images")

// TestImages checks that the committed images are what widget.Images draws.
func TestImages(t *testing.T) {
	imgs, err := widget.Images()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range imgs {
		p := filepath.Join("src", "images", name)
		if *update {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run go test ./widget -run TestImages -update)", err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s differs from widget.Images (run go test ./widget -run TestImages -update)", p)
		}
	}
}

func TestCheckSource(t *testing.T) {
	if probs := widget.Check(widget.Source()); len(probs) > 0 {
		for _, p := range probs {
			t.Error(p)
		}
	}
	// The embedded copy is the one on disk.
	if probs := widget.Check(os.DirFS("src")); len(probs) > 0 {
		t.Errorf("src on disk: %v", probs)
	}
}

// broken returns a copy of the widget's sources with changes applied
// (nil removes a file).
func broken(t *testing.T, changes map[string][]byte) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(widget.Source(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(widget.Source(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range changes {
		if b == nil {
			delete(m, p)
		} else {
			m[p] = &fstest.MapFile{Data: b}
		}
	}
	return m
}

func TestCheckFinds(t *testing.T) {
	src := widget.Source()
	read := func(p string) string {
		b, err := fs.ReadFile(src, p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	manifest := read("manifest.json")
	script := read("script.js")
	en := read("i18n/en.json")
	logo, _ := fs.ReadFile(src, "images/logo_min.png")
	medium, _ := fs.ReadFile(src, "images/logo_medium.png")
	for name, tc := range map[string]struct {
		changes map[string][]byte
		want    string
	}{
		"InterfaceVersion": {map[string][]byte{"manifest.json": []byte(strings.Replace(manifest, `"interface_version": 2`, `"interface_version": 1`, 1))}, "interface_version must be 2"},
		"BadLocation":      {map[string][]byte{"manifest.json": []byte(strings.Replace(manifest, `"lcard-1"`, `"lcard-1", "lcard-0"`, 1))}, "cannot both be listed"},
		"UnknownLocation":  {map[string][]byte{"manifest.json": []byte(strings.Replace(manifest, `"everywhere"`, `"nowhere"`, 1))}, `unknown location "nowhere"`},
		"MissingLocale":    {map[string][]byte{"i18n/pt.json": nil}, "i18n/pt.json: is missing"},
		"ExtraLocale":      {map[string][]byte{"i18n/de.json": []byte(en)}, "i18n/de.json: is not a locale of the manifest"},
		"MissingKey":       {map[string][]byte{"i18n/es.json": []byte(strings.Replace(en, `"short_description"`, `"short"`, 1))}, `has no text for "widget.short_description"`},
		"BOM":              {map[string][]byte{"style.css": append([]byte{0xEF, 0xBB, 0xBF}, "a{}"...)}, "byte order mark"},
		"CRLF":             {map[string][]byte{"templates/keypad.twig": []byte("<div>\r\n</div>")}, "CR line ends"},
		"Eval":             {map[string][]byte{"script.js": []byte(script + "\neval('1');\n")}, "eval"},
		"ConsoleLog":       {map[string][]byte{"js/extra.js": []byte("define([], function () { console.log('x'); });\n")}, "debugging leftovers"},
		"Minified":         {map[string][]byte{"js/min.js": []byte("define([],function(){" + strings.Repeat("var a=1;", 80) + "});\n")}, "minified"},
		"WrongSize":        {map[string][]byte{"images/logo_min.png": medium}, "is 240×84, Kommo requires 84×84"},
		"MissingLogo":      {map[string][]byte{"images/logo.png": nil}, "images/logo.png: is missing"},
		"StrayFile":        {map[string][]byte{"notes.txt": []byte("todo")}, "notes.txt: is not part of a widget"},
		"BadUTF8":          {map[string][]byte{"templates/x.twig": {0xff, 0xfe}}, "not valid UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			probs := widget.Check(broken(t, tc.changes))
			var all []string
			for _, p := range probs {
				all = append(all, p.String())
			}
			if !strings.Contains(strings.Join(all, "\n"), tc.want) {
				t.Fatalf("problems %q do not mention %q", all, tc.want)
			}
		})
	}
	_ = logo
	// Comments may mention eval without tripping the check.
	if probs := widget.Check(broken(t, map[string][]byte{"js/ok.js": []byte("// never eval( anything\ndefine([], function () { return 1; });\n")})); len(probs) > 0 {
		t.Fatalf("a comment tripped the checks: %v", probs)
	}
}

func TestBuild(t *testing.T) {
	z, err := widget.Build(widget.Source(), "https://cb.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := widget.Build(widget.Source(), "https://cb.example.com")
	if !bytes.Equal(z, again) {
		t.Fatal("two builds of the same sources differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		if strings.HasPrefix(f.Name, "/") || strings.HasPrefix(f.Name, "src/") || strings.HasPrefix(f.Name, "widget/") {
			t.Fatalf("%q is not at the zip's root", f.Name)
		}
		if strings.HasSuffix(f.Name, ".png") {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(b, []byte(widget.Placeholder)) {
			t.Fatalf("%s still holds the placeholder", f.Name)
		}
		if f.Name == "script.js" && !bytes.Contains(b, []byte(`'https://cb.example.com'`)) {
			t.Fatal("script.js does not name the public URL")
		}
	}
	for _, want := range []string{"manifest.json", "script.js", "style.css", "i18n/en.json", "i18n/id.json", "images/logo_main.png", "templates/result.twig"} {
		if !names[want] {
			t.Errorf("%s is missing from the zip", want)
		}
	}

	t.Run("BadURL", func(t *testing.T) {
		for _, u := range []string{"", "cb.example.com", "ftp://x", "https://x/?a=1"} {
			if _, err := widget.Build(widget.Source(), u); err == nil {
				t.Errorf("%q accepted", u)
			}
		}
	})
	t.Run("Problems", func(t *testing.T) {
		_, err := widget.Build(broken(t, map[string][]byte{"images/logo.png": nil}), "https://cb.example.com")
		var ce *widget.CheckError
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("err %v, want a CheckError", err)
		}
	})
}
