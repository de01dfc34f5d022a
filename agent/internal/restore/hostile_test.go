package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/blob"
	"github.com/grim-reaper/grim/protocol/tree"
)

// rawNode is a tree node written by hand: any name, unchecked.
func rawNode(name, typ string, content []blob.ID, subtree *blob.ID, target string) string {
	n := map[string]any{"name": name, "type": typ, "mode": 0o644,
		"mtime": "2020-01-01T00:00:00Z", "atime": "2020-01-01T00:00:00Z",
		"ctime": "2020-01-01T00:00:00Z"}
	if content != nil {
		n["content"] = content
	}
	if subtree != nil {
		n["subtree"] = subtree
		n["mode"] = 0o755
	}
	if target != "" {
		n["link_target"] = target
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func rawTree(nodes ...string) string {
	out := `{"nodes":[`
	for i, n := range nodes {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out + "]}"
}

// TestHostileNames restores snapshots whose trees name paths that climb out, are
// absolute or hold separators; each must fail or stay inside the target.
func TestHostileNames(t *testing.T) {
	tests := []struct {
		name string
		// root builds the snapshot; outside is the sandbox's outside directory.
		root func(s *snapshots, outside string) blob.ID
		// ok is set for snapshots that are valid but must be restored with care.
		ok bool
	}{
		{name: "dot dot", root: inDir("..")},
		{name: "dot dot slash x", root: inDir("../x")},
		{name: "deep climb", root: inDir("../../../../../../../../tmp/grim-escape")},
		{name: "dot", root: inDir(".")},
		{name: "empty", root: inDir("")},
		{name: "slash", root: inDir("a/b")},
		{name: "nul", root: inDir("a\x00b")},
		{name: "absolute in subtree", root: func(s *snapshots, outside string) blob.ID {
			return inDir(filepath.Join(outside, "pwned"))(s, outside)
		}},
		{name: "etc passwd style", root: inDir("/etc/passwd")},
		{name: "root climbs", root: rootNamed("/../../escape")},
		{name: "root relative", root: rootNamed("../escape")},
		{name: "root with dot dot inside", root: rootNamed("/a/../../escape")},
		{name: "root not clean", root: rootNamed("/a//b")},
		{name: "root is a nul", root: rootNamed("/a\x00/b")},
		{name: "root to outside", root: func(s *snapshots, outside string) blob.ID {
			return rootNamed("/../outside/pwned")(s, outside)
		}},
		{name: "root symlink then file below it", root: linkThenFile(false), ok: true},
		{name: "root file below symlink listed first", root: linkThenFile(true), ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSnapshots(t)
			sb := newSandbox(t)
			res, err := Run(context.Background(), s.options(tt.root(s, sb.outside), sb.target))
			if tt.ok {
				require.NoError(t, err)
				assert.NotEmpty(t, res.Warnings, "the conflict is reported")
			} else {
				require.ErrorIs(t, err, tree.ErrInvalid)
			}
			sb.assertContained(t)
			assert.NoFileExists(t, "/tmp/grim-escape")
			assertNoTemp(t, sb.target)
		})
	}
}

// inDir makes a snapshot of one directory holding a file with the given name.
func inDir(name string) func(s *snapshots, outside string) blob.ID {
	return func(s *snapshots, _ string) blob.ID {
		data := s.put(blob.KindData, []byte("evil"))
		sub := s.raw(rawTree(rawNode(name, tree.TypeFile, []blob.ID{data}, nil, "")))
		return s.raw(rawTree(rawNode("/src", tree.TypeDir, nil, &sub, "")))
	}
}

// rootNamed makes a snapshot whose root tree holds a file under the given name, next
// to a harmless one so that the multi-path mapping applies.
func rootNamed(name string) func(s *snapshots, outside string) blob.ID {
	return func(s *snapshots, _ string) blob.ID {
		data := s.put(blob.KindData, []byte("evil"))
		return s.raw(rawTree(
			rawNode("/fine", tree.TypeFile, []blob.ID{data}, nil, ""),
			rawNode(name, tree.TypeFile, []blob.ID{data}, nil, "")))
	}
}

// linkThenFile makes a root tree with "/a" a symbolic link to the outside and "/a/b" a
// file, which would land outside if the link were followed.
func linkThenFile(fileFirst bool) func(s *snapshots, outside string) blob.ID {
	return func(s *snapshots, outside string) blob.ID {
		data := s.put(blob.KindData, []byte("evil"))
		link := rawNode("/a", tree.TypeSymlink, nil, nil, outside)
		below := rawNode("/a/b", tree.TypeFile, []blob.ID{data}, nil, "")
		if fileFirst {
			return s.raw(rawTree(below, link))
		}
		return s.raw(rawTree(link, below))
	}
}

// TestPlantedLinks restores over symbolic links planted in the target, pointing out of
// it or elsewhere inside it, with and without Overwrite.
func TestPlantedLinks(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, sb sandbox) // called with the target created
		check func(t *testing.T, sb sandbox, overwrite bool, res *Result)
	}{
		{name: "directory link to outside", plant: plantLink("a", "OUTSIDE"),
			check: checkDirOverLink("a")},
		{name: "relative directory link to outside", plant: plantLink("a", "../outside"),
			check: checkDirOverLink("a")},
		{name: "directory link inside target", plant: plantLinkToSibling("a", "elsewhere"),
			check: func(t *testing.T, sb sandbox, overwrite bool, res *Result) {
				checkDirOverLink("a")(t, sb, overwrite, res)
				entries, err := os.ReadDir(filepath.Join(sb.target, "elsewhere"))
				require.NoError(t, err)
				assert.Empty(t, entries, "written through a link inside the target")
			}},
		{name: "file link to outside file", plant: plantVictim("f"),
			check: func(t *testing.T, sb sandbox, overwrite bool, res *Result) {
				assert.Equal(t, "victim", readFile(t, filepath.Join(sb.outside, "victim")))
				f := filepath.Join(sb.target, "f")
				if !overwrite {
					assert.Equal(t, []string{"f"}, res.Skipped)
					assertIsLink(t, f)
					return
				}
				assert.Equal(t, "file data", readFile(t, f))
				assertMode(t, f, 0o644)
			}},
	}
	for _, tt := range tests {
		for _, overwrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/overwrite=%v", tt.name, overwrite), func(t *testing.T) {
				s := newSnapshots(t)
				root := s.build(dir("/src", 0o755,
					dir("a", 0o755, file("file", "evil")), file("f", "file data")))
				sb := newSandbox(t)
				require.NoError(t, os.Mkdir(sb.target, 0o755))
				tt.plant(t, sb)

				opt := s.options(root, sb.target)
				opt.Overwrite = overwrite
				res, err := Run(context.Background(), opt)
				require.NoError(t, err)
				sb.assertContained(t, "victim")
				tt.check(t, sb, overwrite, res)
				assertNoTemp(t, sb.target)
			})
		}
	}
}

// plantLink makes target/name a link to target text; "OUTSIDE" stands for the
// sandbox's absolute outside directory.
func plantLink(name, target string) func(t *testing.T, sb sandbox) {
	return func(t *testing.T, sb sandbox) {
		if target == "OUTSIDE" {
			target = sb.outside
		}
		require.NoError(t, os.Symlink(target, filepath.Join(sb.target, name)))
	}
}

func plantLinkToSibling(name, sibling string) func(t *testing.T, sb sandbox) {
	return func(t *testing.T, sb sandbox) {
		require.NoError(t, os.Mkdir(filepath.Join(sb.target, sibling), 0o755))
		require.NoError(t, os.Symlink(sibling, filepath.Join(sb.target, name)))
	}
}

func plantVictim(name string) func(t *testing.T, sb sandbox) {
	return func(t *testing.T, sb sandbox) {
		victim := filepath.Join(sb.outside, "victim")
		require.NoError(t, os.WriteFile(victim, []byte("victim"), 0o600))
		require.NoError(t, os.Symlink(victim, filepath.Join(sb.target, name)))
	}
}

// checkDirOverLink checks a backed-up directory restored where a link was planted: left
// alone and reported without Overwrite, replaced by a real directory with it.
func checkDirOverLink(name string) func(t *testing.T, sb sandbox, overwrite bool,
	res *Result) {
	return func(t *testing.T, sb sandbox, overwrite bool, res *Result) {
		p := filepath.Join(sb.target, name)
		if !overwrite {
			assert.Contains(t, res.Skipped, name)
			assertIsLink(t, p)
			return
		}
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		assert.True(t, fi.IsDir())
		assert.Equal(t, "evil", readFile(t, filepath.Join(p, "file")))
	}
}

func assertIsLink(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode().Type(), "%s is no longer a link", p)
}

// TestLinkThenDirectory restores a snapshot holding a link "d" to the outside, then a
// second snapshot holding a directory "d" with a file over it.
func TestLinkThenDirectory(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwrite=%v", overwrite), func(t *testing.T) {
			s := newSnapshots(t)
			sb := newSandbox(t)
			first := s.build(dir("/src", 0o755, symlink("d", sb.outside)))
			_, err := Run(context.Background(), s.options(first, sb.target))
			require.NoError(t, err)
			assertIsLink(t, filepath.Join(sb.target, "d"))

			second := s.build(dir("/src", 0o755, dir("d", 0o755, file("file", "evil"))))
			opt := s.options(second, sb.target)
			opt.Overwrite = overwrite
			res, err := Run(context.Background(), opt)
			require.NoError(t, err)
			sb.assertContained(t)
			if !overwrite {
				assert.Equal(t, []string{"d"}, res.Skipped)
				assertIsLink(t, filepath.Join(sb.target, "d"))
				return
			}
			assert.Equal(t, "evil", readFile(t, filepath.Join(sb.target, "d", "file")))
		})
	}
}
