/* Bulk actions of the admin lists without inline handlers (Content-Security-Policy):
   a click on a menu item named by data-model-action runs Flask-Admin's modelActions,
   which asks for confirmation and posts the selected rows. */
document.addEventListener('click', function (event) {
  var item = event.target.closest('[data-model-action]');
  if (!item) { return; }
  event.preventDefault();
  modelActions.execute(item.getAttribute('data-model-action'));
});
