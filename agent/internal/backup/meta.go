package backup

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/grim-reaper/grim/protocol/tree"
)

// modeBits are the permission bits plus setuid, setgid and sticky.
const modeBits = 0o7777

// node builds the entry of a file from its stat, with owner names and xattrs. An xattr
// that cannot be read is a warning; the entry is kept without it. AccessTime stays zero,
// as the tree format asks: it changes whenever anyone reads the file, so keeping it would
// make every tree new on every run.
func (r *run) node(path, name string, st *unix.Stat_t) tree.Node {
	n := tree.Node{
		Name:       name,
		Type:       nodeType(uint32(st.Mode)),
		Mode:       uint32(st.Mode) & modeBits,
		UID:        st.Uid,
		GID:        st.Gid,
		User:       r.names.user(st.Uid),
		Group:      r.names.group(st.Gid),
		ModTime:    timespec(st.Mtim),
		ChangeTime: timespec(st.Ctim),
		Inode:      uint64(st.Ino),
		Device:     uint64(st.Dev),
		Links:      uint64(st.Nlink),
	}
	if n.Type == tree.TypeDevice || n.Type == tree.TypeCharDev {
		n.RDev = uint64(st.Rdev)
	}
	xattrs, err := readXattrs(path)
	if err != nil {
		r.warn(path, "read extended attributes", err)
	}
	n.Xattrs = xattrs
	return n
}

// special builds the entry of a symlink, device, FIFO or socket.
func (r *run) special(path, name string, st *unix.Stat_t) (*tree.Node, error) {
	n := r.node(path, name, st)
	if n.Type != tree.TypeSymlink {
		return &n, nil
	}
	target, err := os.Readlink(path)
	if err != nil {
		return nil, fmt.Errorf("read link: %w", err)
	}
	n.LinkTarget = target
	return &n, nil
}

func nodeType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return tree.TypeDir
	case unix.S_IFLNK:
		return tree.TypeSymlink
	case unix.S_IFBLK:
		return tree.TypeDevice
	case unix.S_IFCHR:
		return tree.TypeCharDev
	case unix.S_IFIFO:
		return tree.TypeFIFO
	case unix.S_IFSOCK:
		return tree.TypeSocket
	default:
		return tree.TypeFile
	}
}

func timespec(ts unix.Timespec) time.Time { return time.Unix(ts.Unix()) }

// names caches user and group names by id; a backup sees few distinct owners, and each
// lookup reads the system's databases.
type names struct {
	mu     sync.Mutex // guards users and groups
	users  map[uint32]string
	groups map[uint32]string
}

func newNames() *names {
	return &names{users: make(map[uint32]string), groups: make(map[uint32]string)}
}

// user returns the name of uid, or "" if it has none.
func (n *names) user(uid uint32) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.users[uid]; ok {
		return s
	}
	var s string
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		s = u.Username
	}
	n.users[uid] = s
	return s
}

// group returns the name of gid, or "" if it has none.
func (n *names) group(gid uint32) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s, ok := n.groups[gid]; ok {
		return s
	}
	var s string
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		s = g.Name
	}
	n.groups[gid] = s
	return s
}
