// Never finishes importing: a busy loop cannot be interrupted on the thread that runs it.
while (true) {
  // spin
}
