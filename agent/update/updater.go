package update

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"timeclock/clock"
	"timeclock/internal/httpc"
	"timeclock/release"
	"timeclock/wire"
)

// ExitCode is the exit status of a clock that stops to run another slot
// (after an install, or to roll back): the service manager starts it again
// (timeclockd.service: Restart=always, SuccessExitStatus).
const ExitCode = 11

// ErrRestart is Run's result when the clock must restart into another slot.
var ErrRestart = errors.New("update: restart into the other slot")

// Config is the clock's update settings.
type Config struct {
	StateDir string
	Version  string // the running version
	Model    string // the board model
	// Keys are the release keys the clock trusts (more than one: a new key
	// is added by a release signed with the old one before the old retires).
	Keys []ed25519.PublicKey
	// Poll is how often the clock checks in for updates; Retry how soon
	// a failed download or report goes again.
	Poll, Retry time.Duration
	// Trial is how long a new version has to commit before it is rolled
	// back; MaxStarts how many starts it gets.
	Trial     time.Duration
	MaxStarts int
	// Reserve is free space left on the state file system after an
	// update's download and install (the journal needs room).
	Reserve int64
}

// Deps are what the updater works with.
type Deps struct {
	// BaseURL is the cloud's HTTPS base URL and Client an HTTPS client with
	// the cloud's CA and the device's certificate.
	BaseURL string
	Client  *httpc.Client
	Clock   clock.Clock
	Log     *slog.Logger
	// Healthy returns nil when the journal is open and the punch loop and
	// journal writer answer (the agent's liveness check).
	Healthy func(context.Context) error
	// Quiesce asks the punch loop to stop for a restart: nil when it
	// agreed (it was idle: no punch under way, no disable's last
	// transmission) and has stopped; an error when it is busy now.
	Quiesce func() error
	// Executable is the running binary's path; nil uses os.Executable.
	Executable func() (string, error)
}

// Platform is the running binary's release.Platform.
func Platform() string {
	goarm := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				goarm = s.Value
			}
		}
	}
	return release.Platform(runtime.GOOS, runtime.GOARCH, goarm)
}

// Updater runs the clock's side of updates.
type Updater struct {
	cfg   Config
	d     Deps
	slots Slots
	log   *slog.Logger
	arch  string
}

// New returns an updater.
func New(cfg Config, d Deps) *Updater {
	if d.Executable == nil {
		d.Executable = os.Executable
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 15 * time.Minute
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 10 * time.Second
	}
	if cfg.Trial <= 0 {
		cfg.Trial = 15 * time.Minute
	}
	if cfg.MaxStarts <= 0 {
		cfg.MaxStarts = DefaultMaxStarts
	}
	return &Updater{cfg: cfg, d: d, slots: SlotsIn(cfg.StateDir), log: d.Log.With("component", "update"), arch: Platform()}
}

// runningSlot is the slot this process runs from, or an error saying why
// this clock cannot update itself.
func (u *Updater) runningSlot() (string, error) {
	active, err := u.slots.Active()
	if err != nil {
		return "", fmt.Errorf("not installed in update slots (%v)", err)
	}
	exe, err := u.d.Executable()
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	for _, s := range []string{"a", "b"} {
		p, err := filepath.EvalSymlinks(u.slots.BinaryPath(s))
		if err == nil && p == exe {
			if s != active {
				return s, fmt.Errorf("runs from slot %s but %s points to %s", s, Current, active)
			}
			return s, nil
		}
	}
	return "", fmt.Errorf("runs from %s, not from the update slots in %s", exe, u.slots.Dir)
}

// Run checks in until ctx ends; it returns ErrRestart once the clock must
// restart into another slot (the punch loop has already stopped).
func (u *Updater) Run(ctx context.Context) error {
	s, err := LoadState(u.cfg.StateDir)
	if err != nil {
		u.log.Error("update state unreadable; updates are off until it is fixed", "err", err)
		return nil
	}
	slot, slotErr := u.runningSlot()
	if slotErr != nil {
		u.log.Info("this clock cannot update itself over the air", "reason", slotErr)
	}
	if s.Phase == wire.UpdateTrial && slotErr == nil && slot == s.Slot {
		return u.trial(ctx, s, slot)
	}
	if s.Phase == wire.UpdateTrial || s.Phase == PhaseRollback {
		// A trial state this version does not own: the package's check
		// (BootCheck) did not run. Say so rather than guess.
		u.log.Warn("an update trial is recorded for another slot; the service's ExecStartPre check decides it", "slot", s.Slot, "version", s.Version)
	}
	t := u.d.Clock.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
		s, _ = LoadState(u.cfg.StateDir)
		reply, err := u.report(ctx, s, slot)
		if err != nil {
			u.log.Debug("update check-in failed", "err", err)
			t.Reset(u.cfg.Retry)
			continue
		}
		if reply.Stored && !s.Reported && isFinal(s.Phase) {
			s.Reported = true
			if err := SaveState(u.cfg.StateDir, s); err != nil {
				u.log.Error("update state", "err", err)
			}
		}
		next := u.cfg.Poll
		if o := reply.Offer; o != nil && !u.finished(s, o) {
			if slotErr != nil {
				u.finish(ctx, s, o, wire.UpdateRefused, "this clock "+slotErr.Error(), slot)
			} else if err := u.install(ctx, s, o, slot); errors.Is(err, ErrRestart) {
				return err
			} else if errors.Is(err, errDownload) {
				next = u.cfg.Retry // resume soon; other failures wait for the next check-in
			}
		}
		t.Reset(next)
	}
}

func isFinal(phase string) bool {
	switch phase {
	case wire.UpdateCommitted, wire.UpdateRolledBack, wire.UpdateRefused, wire.UpdateFailed:
		return true
	}
	return false
}

// finished: this offer's outcome is known and final; a failed install
// (space, I/O, an interrupted download) is tried again.
func (u *Updater) finished(s State, o *wire.UpdateOffer) bool {
	return o.Release == s.Release && isFinal(s.Phase) && s.Phase != wire.UpdateFailed
}

// report posts the state and returns the cloud's reply.
func (u *Updater) report(ctx context.Context, s State, slot string) (wire.UpdateReply, error) {
	r := wire.UpdateReport{Version: u.cfg.Version, Arch: u.arch, Model: u.cfg.Model, Slot: slot}
	if s.Phase != "idle" && s.Release != "" {
		r.Release, r.State, r.Percent, r.Reason = s.Release, s.Phase, s.Percent, s.Reason
		if s.Phase == PhaseRollback {
			r.State = wire.UpdateTrial
		}
	}
	return u.post(ctx, r)
}

func (u *Updater) post(ctx context.Context, r wire.UpdateReport) (wire.UpdateReply, error) {
	var reply wire.UpdateReply
	body, _ := json.Marshal(r)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(u.d.BaseURL, "/")+wire.PathUpdateReport, bytes.NewReader(body))
	if err != nil {
		return reply, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.d.Client.Do(req)
	if err != nil {
		return reply, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxPayload))
	if err != nil {
		return reply, err
	}
	if resp.StatusCode != http.StatusOK {
		return reply, fmt.Errorf("update report: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return wire.DecodeUpdateReply(b)
}

// finish records an offer's outcome and reports it.
func (u *Updater) finish(ctx context.Context, s State, o *wire.UpdateOffer, phase, reason, slot string) {
	s.Release, s.Version, s.Phase, s.Reason, s.Reported, s.Changed = o.Release, o.Version, phase, reason, false, u.d.Clock.Now()
	s.Percent = 0
	if phase == wire.UpdateRefused || phase == wire.UpdateFailed {
		u.log.Warn("update "+phase, "release", o.Release, "version", o.Version, "reason", reason)
	}
	if err := SaveState(u.cfg.StateDir, s); err != nil {
		u.log.Error("update state", "err", err)
	}
	if reply, err := u.report(ctx, s, slot); err == nil && reply.Stored {
		s.Reported = true
		SaveState(u.cfg.StateDir, s)
	}
}

// errDownload marks a download that stopped; it resumes after Retry.
var errDownload = errors.New("download")

// Refusal is an artifact that failed a check: nothing was installed.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

// install downloads, checks and installs an offer into the other slot,
// then stops the punch loop and switches: ErrRestart. Any other error
// leaves the running version as it was.
func (u *Updater) install(ctx context.Context, s State, o *wire.UpdateOffer, slot string) error {
	inactive := Other(slot)
	log := u.log.With("release", o.Release, "version", o.Version)
	started := u.d.Clock.Now()
	if err := u.checkSpace(o.Size); err != nil {
		u.finish(ctx, s, o, wire.UpdateFailed, err.Error(), slot)
		return err
	}
	s.Release, s.Version, s.Phase, s.Reason, s.Percent, s.Reported = o.Release, o.Version, wire.UpdateDownloading, "", 0, false
	SaveState(u.cfg.StateDir, s)
	part, err := u.download(ctx, s, o, slot)
	if err != nil {
		err = fmt.Errorf("%w: %w", errDownload, err)
		log.Warn("update download interrupted; it resumes", "err", err)
		s.Reason = "download: " + err.Error()
		SaveState(u.cfg.StateDir, s)
		return err
	}
	downloaded := u.d.Clock.Now()
	head, err := u.check(part, o)
	var ref *Refusal
	if errors.As(err, &ref) {
		os.Remove(part)
		u.finish(ctx, s, o, wire.UpdateRefused, ref.Reason, slot)
		return err
	}
	if err != nil {
		os.Remove(part)
		u.finish(ctx, s, o, wire.UpdateFailed, err.Error(), slot)
		return err
	}
	verified := u.d.Clock.Now()
	s.Phase, s.Percent = wire.UpdateInstalling, 100
	if err := SaveState(u.cfg.StateDir, s); err != nil {
		return err
	}
	u.post(ctx, wire.UpdateReport{Version: u.cfg.Version, Arch: u.arch, Model: u.cfg.Model, Slot: slot, Release: o.Release, State: wire.UpdateInstalling, Percent: 100})
	if err := u.writeSlot(part, head, inactive); err != nil {
		u.finish(ctx, s, o, wire.UpdateFailed, "install: "+err.Error(), slot)
		return err
	}
	os.Remove(part)
	// Wait for a moment with no punch under way, then stop the punch loop.
	for {
		if err := u.d.Quiesce(); err == nil {
			break
		}
		if !u.sleep(ctx, time.Second) {
			// Stopping anyway: the slot is written; the next offer of the
			// same release installs again. Leave the running version.
			s.Phase, s.Reason = wire.UpdateFailed, "the clock stopped before the switch"
			SaveState(u.cfg.StateDir, s)
			return ctx.Err()
		}
	}
	now := u.d.Clock.Now()
	s.Phase, s.Slot, s.Previous, s.From = wire.UpdateTrial, inactive, slot, u.cfg.Version
	s.TrialStart, s.Deadline, s.TrialStarts, s.MaxStarts, s.LastExit = now, now.Add(u.cfg.Trial), 0, u.cfg.MaxStarts, ""
	s.Switched, s.Reason, s.Reported = now, "", false
	s.TrialFloor = head.Manifest.Floor
	if s.SlotVersions == nil {
		s.SlotVersions = map[string]string{}
	}
	s.SlotVersions[inactive], s.SlotVersions[slot] = o.Version, u.cfg.Version
	if err := SaveState(u.cfg.StateDir, s); err != nil {
		log.Error("update state not written; not switching", "err", err)
		return ErrRestart // the loop has stopped: restart into the same slot
	}
	if err := u.slots.Switch(inactive); err != nil {
		log.Error("switching slots failed; the old version starts again", "err", err)
		s.Phase, s.Reason = wire.UpdateFailed, "switch: "+err.Error()
		SaveState(u.cfg.StateDir, s)
		return ErrRestart
	}
	log.Info("update installed: restarting into the new version on trial", "slot", inactive, "from", u.cfg.Version,
		"download", downloaded.Sub(started).Round(time.Millisecond).String(), "verify", verified.Sub(downloaded).Round(time.Millisecond).String(),
		"install", now.Sub(verified).Round(time.Millisecond).String())
	rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	u.report(rctx, s, slot)
	cancel()
	return ErrRestart
}

// checkSpace: the download and the slot copy, plus the reserve, must fit.
func (u *Updater) checkSpace(size int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(u.cfg.StateDir, &st); err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	var have int64
	if fi, err := os.Stat(u.partPath()); err == nil {
		have = fi.Size()
	}
	need := (size - have) + size + u.cfg.Reserve
	if free < need {
		return fmt.Errorf("not enough free space: the update needs %d MiB, %d MiB free", (need+1<<20-1)>>20, free>>20)
	}
	return nil
}

func (u *Updater) partPath() string { return filepath.Join(u.cfg.StateDir, "update.part") }

// download fetches the artifact into the part file, resuming where a
// previous try stopped (HTTP Range), reporting progress every 10 %.
func (u *Updater) download(ctx context.Context, s State, o *wire.UpdateOffer, slot string) (string, error) {
	part := u.partPath()
	// A part file of another release is thrown away.
	meta := part + ".release"
	if b, _ := os.ReadFile(meta); string(b) != o.Release {
		os.Remove(part)
		if err := os.WriteFile(meta, []byte(o.Release), 0o600); err != nil {
			return "", err
		}
	}
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", err
	}
	if have > o.Size {
		f.Truncate(0)
		have, _ = f.Seek(0, io.SeekStart)
	}
	if have < o.Size {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(u.d.BaseURL, "/")+wire.PathUpdateArtifact+o.Release, nil)
		if err != nil {
			return "", err
		}
		if have > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
			u.log.Info("update download resumes", "release", o.Release, "at", have, "of", o.Size)
		}
		resp, err := u.d.Client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusPartialContent:
		case http.StatusOK:
			if err := f.Truncate(0); err != nil {
				return "", err
			}
			if have, err = f.Seek(0, io.SeekStart); err != nil {
				return "", err
			}
		default:
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return "", fmt.Errorf("artifact: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		buf := make([]byte, 64<<10)
		lastPct := int(have * 100 / o.Size)
		for have < o.Size {
			n, rerr := resp.Body.Read(buf[:min(int64(len(buf)), o.Size-have)])
			if n > 0 {
				if _, err := f.Write(buf[:n]); err != nil {
					return "", err
				}
				have += int64(n)
				if pct := int(have * 100 / o.Size); pct/10 > lastPct/10 && pct < 100 {
					lastPct = pct
					s.Percent = pct
					SaveState(u.cfg.StateDir, s)
					u.report(ctx, s, slot) // progress, best effort
				}
			}
			if rerr == io.EOF && have < o.Size {
				return "", fmt.Errorf("connection ended at %d of %d bytes", have, o.Size)
			}
			if rerr != nil && rerr != io.EOF {
				return "", rerr
			}
		}
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return part, nil
}

// check verifies the downloaded artifact before anything is installed.
func (u *Updater) check(part string, o *wire.UpdateOffer) (release.Head, error) {
	f, err := os.Open(part)
	if err != nil {
		return release.Head{}, err
	}
	defer f.Close()
	h, err := release.ReadHead(f, u.cfg.Keys)
	if err != nil {
		return h, &Refusal{Reason: err.Error()}
	}
	m := h.Manifest
	s, _ := LoadState(u.cfg.StateDir)
	switch {
	case m.Version != o.Version:
		return h, &Refusal{Reason: fmt.Sprintf("the artifact is version %s, the cloud offered %s", m.Version, o.Version)}
	case m.Arch != u.arch:
		return h, &Refusal{Reason: fmt.Sprintf("wrong architecture: the artifact is for %s, this clock is %s", m.Arch, u.arch)}
	case !m.ForModel(u.cfg.Model):
		return h, &Refusal{Reason: fmt.Sprintf("wrong model: the artifact is for %s, this clock is %s", strings.Join(m.Models, ", "), u.cfg.Model)}
	case m.Version == u.cfg.Version:
		return h, &Refusal{Reason: "this clock already runs version " + m.Version}
	case m.Floor != "" && release.CompareVersions(u.cfg.Version, m.Floor) < 0:
		return h, &Refusal{Reason: fmt.Sprintf("version %s replaces %s or later; this clock runs %s: install an intermediate release first", m.Version, m.Floor, u.cfg.Version)}
	case s.Floor != "" && release.CompareVersions(m.Version, s.Floor) < 0:
		return h, &Refusal{Reason: fmt.Sprintf("downgrade below the floor: %s is older than %s, the oldest version that reads this clock's state", m.Version, s.Floor)}
	}
	if err := h.CheckPayload(f, nil); err != nil {
		return h, &Refusal{Reason: err.Error()}
	}
	return h, nil
}

func (u *Updater) writeSlot(part string, h release.Head, slot string) error {
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(h.PayloadOffset, io.SeekStart); err != nil {
		return err
	}
	// Checked again as it is written: the slot gets exactly the bytes the
	// signed manifest names, or nothing.
	return u.slots.Install(slot, func(w io.Writer) error { return h.CheckPayload(f, w) })
}
