package serve

// This file holds the reload on change: fsnotify on the script's directory
// (editors and ConfigMap updates replace files by renaming, which a watch
// on the file itself would lose), any .star file there counting, since
// the script may load() it. Changes are debounced, as one save is often
// several events.

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

const debounce = 250 * time.Millisecond

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
