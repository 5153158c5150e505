package lint

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxFileBytes bounds what lint reads of one file or of stdin; a larger
// input is reported, never silently cut (a cut stream would lint a
// truncated last object and pass or fail for the wrong reason).
const MaxFileBytes = 16 << 20

// eachInput calls fn with the content of every file that paths name: files,
// the .yaml, .yml and .json files under directories, and "-" for stdin
// (the `helm template ./chart | crashlens lint -f -` case).
func eachInput(paths []string, stdin io.Reader, fn func(file string, data []byte, tooBig bool)) error {
	for _, p := range paths {
		if p == "-" {
			b, tooBig, err := readBounded(stdin)
			if err != nil {
				return err
			}
			fn("<stdin>", b, tooBig)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			if err := readFile(p, fn); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(p, func(f string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(f)) {
			case ".yaml", ".yml", ".json":
				return readFile(f, fn)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func readFile(p string, fn func(string, []byte, bool)) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	b, tooBig, err := readBounded(f)
	if err != nil {
		return err
	}
	fn(p, b, tooBig)
	return nil
}

// readBounded reads up to MaxFileBytes and tells whether there was more.
func readBounded(r io.Reader) ([]byte, bool, error) {
	if r == nil {
		return nil, false, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(b) > MaxFileBytes {
		return nil, true, nil
	}
	return b, false, nil
}
