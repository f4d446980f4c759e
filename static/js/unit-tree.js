// Loads the units under a node of the union tree the first time the node is opened, and the
// next batch of a node's units when "Show more units" is clicked.
(function () {
  const tree = document.getElementById("tree");
  if (!tree) return;
  tree.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-more]");
    if (!link) return;
    event.preventDefault();
    const row = link.closest("li");
    link.setAttribute("aria-busy", "true");
    fetch(link.dataset.more, { headers: { Accept: "text/html" } })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        row.outerHTML = html;
      })
      .catch(() => link.removeAttribute("aria-busy")); // the link stays: clicking tries again
  });
  tree.addEventListener(
    "toggle",
    (event) => {
      const node = event.target;
      const url = node.dataset && node.dataset.children;
      if (!node.open || !url) return;
      delete node.dataset.children;
      node.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "text/html" } })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => {
          node.querySelector(":scope > ul").innerHTML = html;
        })
        .catch(() => {
          // The link to the unit's page stays; opening the node again tries once more.
          node.dataset.children = url;
        })
        .finally(() => node.removeAttribute("aria-busy"));
    },
    true, // "toggle" does not bubble: listen on the way down
  );
})();
