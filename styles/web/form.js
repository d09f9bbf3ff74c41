// Print: the PDF loads into a hidden frame, then the browser's print dialog opens.
document.addEventListener("DOMContentLoaded", () => {
  const frame = document.getElementById("print-frame");
  let printing = false;
  document.getElementById("print-button").addEventListener("click", () => { printing = true; });
  frame.addEventListener("load", () => {
    if (!printing) return;
    printing = false;
    try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { /* viewer without print */ }
  });
});
