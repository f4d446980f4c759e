// A filter chosen by typing: each input[data-choices-url] offers, in its datalist, the choices
// whose name matches what is typed (with or without diacritics), read from a small JSON view
// answering {"results": [{"id": 1, "label": "…"}]}; the chosen id goes in the hidden field
// named by data-target. The page carries no list of choices, so it does not grow with the tree.
(function () {
  function attach(input) {
    const hidden = document.getElementById(input.dataset.target);
    const list = input.list;
    if (!hidden || !list) return;
    const ids = new Map();
    let timer = null;
    let asked = "";

    function fill(results) {
      ids.clear();
      list.replaceChildren(
        ...results.map(function (result) {
          ids.set(result.label, result.id);
          const option = document.createElement("option");
          option.value = result.label;
          return option;
        }),
      );
    }

    function ask(text) {
      if (text === asked) return;
      asked = text;
      const url = new URL(input.dataset.choicesUrl, window.location.href);
      url.searchParams.set("q", text);
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (asked === text) fill(data.results); })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      const text = input.value.trim();
      if (ids.has(input.value)) {
        hidden.value = ids.get(input.value);
        return;
      }
      hidden.value = "";
      clearTimeout(timer);
      if (text.length >= 2) timer = setTimeout(function () { ask(text); }, 200);
    });
  }

  document.querySelectorAll("input[data-choices-url]").forEach(attach);
})();
