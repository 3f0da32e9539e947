"""State and work without widgets: the session, the controller of jobs and navigation, worker
threads, validation / evaluation / error-analysis runners, caches, settings, exports. Uses
QtCore (signals, threads) but never QtWidgets or pyqtgraph (a contract)."""
