// Polls a background job's status (an import, a report) and reloads the page when it is over.
// The box carries data-status-url and data-active="1"; the JSON answer gives
// {status, active, progress, label}.
(function () {
  const box = document.getElementById("job-progress");
  if (!box || box.dataset.active !== "1") return;
  const bar = document.getElementById("job-progress-bar");
  const label = document.getElementById("job-status-label");
  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const state = await response.json();
        bar.style.width = state.progress + "%";
        bar.textContent = state.progress + "%";
        bar.parentElement.setAttribute("aria-valuenow", state.progress);
        label.textContent = state.label;
        if (!state.active) {
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
