// gloss-local-bench: local commands in a large workspace (issue 10, point 6). Being written.
print("gloss-local-bench: not written yet")
