print("gloss-sync-bench: not written yet")
