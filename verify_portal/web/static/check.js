// The notice's QR code links to /check#<case number>:<code>: the fragment never reaches the server.
// Copy it into the form, then drop it from the address bar.
const [caseNo, code] = decodeURIComponent(window.location.hash.slice(1)).split(":");
if (caseNo && code) {
  document.getElementById("case_no").value = caseNo;
  document.getElementById("code").value = code;
  history.replaceState(null, "", window.location.pathname + window.location.search);
}
