// The member list's unit filter: a search box offering the units in scope whose name matches
// (with or without diacritics), from a small JSON view; the chosen unit's id goes in a hidden
// field. The page itself carries no list of units, so it does not grow with the tree.
(function () {
  const input = document.getElementById("id_unit_name");
  const hidden = document.getElementById("id_unit");
  const list = document.getElementById("unit-options");
  if (!input || !hidden || !list) return;
  const ids = new Map();
  let timer = null;
  let asked = "";

  function fill(units) {
    ids.clear();
    list.replaceChildren(
      ...units.map(function (unit) {
        ids.set(unit.label, unit.id);
        const option = document.createElement("option");
        option.value = unit.label;
        return option;
      }),
    );
  }

  function ask(text) {
    if (text === asked) return;
    asked = text;
    fetch(input.dataset.url + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { units: [] }; })
      .then(function (data) { if (asked === text) fill(data.units); })
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
})();
