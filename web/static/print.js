// The print button of the printable notices (a file, since the Content-Security-Policy forbids inline script).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
});
