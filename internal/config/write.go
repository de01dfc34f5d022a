package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/grim-reaper/grim/internal/atomicfile"
)

// Update sets keys in the YAML file at path to the given values, keeping every other key
// and the file's comments, and creates the file (mode 0644: settings are not secrets)
// when it is missing. Empty values are left out.
func Update(path string, values map[string]string, order []string) error {
	doc, prefix, err := readNode(path)
	if err != nil {
		return err
	}
	root := doc.Content[0]
	for _, k := range order {
		if v := values[k]; v != "" {
			setKey(root, k, v)
		}
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode config %s: %w", path, err)
	}
	out = append(prefix, out...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("config dir: %w", err)
	}
	if err := atomicfile.Write(path, out, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// readNode returns the file's document. A file that is missing or holds only comments
// gives an empty mapping document and its text as a prefix to keep in front of it.
func readNode(path string) (*yaml.Node, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		empty := &yaml.Node{Kind: yaml.DocumentNode,
			Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		return empty, data, nil
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("config %s: not a map of settings", path)
	}
	return &doc, nil, nil
}

func setKey(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value,
				LineComment: v.LineComment, HeadComment: v.HeadComment}
			return
		}
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}
