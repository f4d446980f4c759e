// Points the template download at the union chosen in the import form, so the template lists
// that union's unit codes.
(function () {
  const link = document.getElementById("template-link");
  const select = document.querySelector("#import-form select[name=unit]");
  if (!link || !select) return;
  select.addEventListener("change", function () {
    link.href = link.dataset.baseUrl + (select.value ? "?unit=" + encodeURIComponent(select.value) : "");
  });
})();
