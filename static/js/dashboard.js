// Loads this year's figures into the home page once the page itself is shown.
(function () {
  const box = document.getElementById("dashboard");
  if (!box) return;
  fetch(box.dataset.url, { headers: { Accept: "text/html" } })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((html) => {
      box.innerHTML = html;
    })
    .catch(() => {
      box.hidden = true;
    });
})();
