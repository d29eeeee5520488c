package serve

// This file holds the reload on change: fsnotify on the script's directory
// and those below it (editors and ConfigMap updates replace files by
// renaming, which a watch on the file itself would lose), any .star file
// there counting, since the script may load() it. Changes are debounced, as one save is often
// several events.

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

const debounce = 250 * time.Millisecond

// maxWatchedDirs bounds the subdirectories of the script's directory that
// are watched for changed .star files.
const maxWatchedDirs = 100

func (s *Server) watch(ctx context.Context) (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(s.cfg.Script.Path)
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, err
	}
	// The directories below it too, where relative load()s lead; a
	// bounded number, so a script in / or $HOME does not watch the world.
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && d.Name() != "..data" || n >= maxWatchedDirs {
			return filepath.SkipDir
		}
		if w.Add(path) == nil {
			n++
		}
		return nil
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var fire <-chan time.Time
		var timer *time.Timer
		for {
			select {
			case <-ctx.Done():
				if timer != nil {
					timer.Stop()
				}
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				// Kubernetes swaps a ConfigMap's ..data symlink; anything
				// else that is not a .star file is noise.
				base := filepath.Base(ev.Name)
				if !strings.HasSuffix(base, ".star") && base != "..data" {
					continue
				}
				if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) == 0 {
					continue
				}
				if timer == nil {
					timer = time.NewTimer(debounce)
				} else {
					timer.Reset(debounce)
				}
				fire = timer.C
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				s.log.Warn("watching the script for changes", "error", err)
			case <-fire:
				fire = nil
				s.log.Info("the script changed; reloading", "script", s.cfg.Script.Path)
				_ = s.Reload(ctx) // logged by reload
			}
		}
	}()
	return func() {
		w.Close()
		wg.Wait()
	}, nil
}
