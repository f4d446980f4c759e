// Polls a report's status while it is being built and reloads the page when it is ready.
(function () {
  const box = document.getElementById("report-progress");
  if (!box || box.dataset.active !== "1") return;
  const bar = document.getElementById("report-progress-bar");
  const label = document.getElementById("report-status-label");
  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        bar.style.width = state.progress + "%";
        bar.textContent = state.progress + "%";
        label.textContent = state.label;
        if (state.status === "done" || state.status === "failed") {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // a dropped connection: try again on the next tick
    }
    window.setTimeout(poll, 1500);
  }
  window.setTimeout(poll, 1000);
})();
