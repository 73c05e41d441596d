package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// UploadRelease posts a signed artifact to the admin API (POST
// /api/v1/releases) and returns the release's ID, the HTTP status and the
// answer's body.
func (c *Cloud) UploadRelease(t testing.TB, art []byte) (string, int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", c.URL()+"/api/v1/releases", bytes.NewReader(art))
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.Client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		ID string `json:"id"`
	}
	json.Unmarshal(b, &r)
	return r.ID, resp.StatusCode, string(b)
}

// DeviceUpdate is what the cloud's release store holds on a clock's update
// (release, state, reason, running version...), or nil: read from its data
// directory, as it stands.
func (c *Cloud) DeviceUpdate(device string) map[string]any {
	b, err := os.ReadFile(filepath.Join(c.Dir, "releases", "index.json"))
	if err != nil {
		return nil
	}
	var idx struct {
		Devices map[string]map[string]any `json:"devices"`
	}
	json.Unmarshal(b, &idx)
	return idx.Devices[device]
}
