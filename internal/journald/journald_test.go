package journald

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriterPrefixesPriorities(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(Writer(&buf), &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: DropTime(nil)}))
	log.Debug("d")
	log.Info("i level=ERROR", "k", "level=ERROR") // text that looks like a level does not count
	log.Warn("w")
	log.Error("e")
	want := "<7>level=DEBUG msg=d\n<6>level=INFO msg=\"i level=ERROR\" k=\"level=ERROR\"\n<4>level=WARN msg=w\n<3>level=ERROR msg=e\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(Writer(&buf), nil)).Warn("with time")
	if !strings.HasPrefix(buf.String(), "<4>time=") {
		t.Errorf("with the time kept: %q", buf.String())
	}
}

func TestStderr(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "JOURNAL_STREAM" {
				return v
			}
			return ""
		}
	}
	if !Stderr(env(fmt.Sprintf("%d:%d", st.Dev, st.Ino)), f) {
		t.Error("the stream's own device and inode: not the journal")
	}
	if Stderr(env(fmt.Sprintf("%d:%d", st.Dev, st.Ino+1)), f) {
		t.Error("another inode (stderr redirected by a child): taken for the journal")
	}
	if Stderr(env(""), f) {
		t.Error("no JOURNAL_STREAM: taken for the journal")
	}
}
