"""Union shelters (Mái ấm Công đoàn): the build or repair behind a shelter support record, its
money from every contributor and its progress to the hand-over."""
