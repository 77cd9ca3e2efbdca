"""The shared core both front-ends use: lookup, replica watcher, address handling, texts."""
