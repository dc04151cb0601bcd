// The report form's "use my location": the browser's own position, asked only on a click, put in
// the hidden latitude and longitude fields; the address can then stay empty.
const button = document.getElementById("locate");
const said = document.getElementById("located");
button?.addEventListener("click", () => {
  if (!navigator.geolocation) {
    said.textContent = button.dataset.failed;
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (where) => {
      document.getElementById("latitude").value = where.coords.latitude.toFixed(6);
      document.getElementById("longitude").value = where.coords.longitude.toFixed(6);
      said.textContent = `${where.coords.latitude.toFixed(5)}, ${where.coords.longitude.toFixed(5)}`;
    },
    () => { said.textContent = button.dataset.failed; },
    { timeout: 10000 },
  );
});
