// Progress bars take their width from data-width (a percentage): the Content-Security-Policy
// allows no style attribute in the page, and a width set from a script is allowed.
(function () {
  document.querySelectorAll("[data-width]").forEach(function (bar) {
    bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0)) + "%";
  });
})();
