export function PageTitle({ title, description }: { title: string; description?: string }) {
  return (
    <div className="page-title">
      <h1>{title}</h1>
      {description && <p>{description}</p>}
    </div>
  );
}
