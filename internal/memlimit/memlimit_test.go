package memlimit

import (
	"io/fs"
	"runtime/debug"
	"testing"
)

func TestSet(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restore the test binary's own
	file := func(content string, err error) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			if path != CgroupMemoryMax {
				t.Fatalf("read %s, want %s", path, CgroupMemoryMax)
			}
			return []byte(content), err
		}
	}
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name    string
		read    func(string) ([]byte, error)
		getenv  func(string) string
		want    int64
		wantErr bool
	}{
		{name: "Limit", read: file("268435456\n", nil), getenv: noEnv, want: 241591910},
		{name: "NoLimit", read: file("max\n", nil), getenv: noEnv},
		{name: "NoCgroupV2", read: file("", fs.ErrNotExist), getenv: noEnv},
		{name: "GOMEMLIMITWins", read: file("268435456\n", nil), getenv: func(string) string { return "100MiB" }},
		{name: "Garbage", read: file("lots", nil), getenv: noEnv, wantErr: true},
		{name: "Unreadable", read: file("", fs.ErrPermission), getenv: noEnv, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Set(tc.read, tc.getenv)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Set() = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
			if tc.want > 0 && debug.SetMemoryLimit(-1) != tc.want {
				t.Errorf("the runtime's limit is %d, want %d", debug.SetMemoryLimit(-1), tc.want)
			}
		})
	}
}
