import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';
import { nestedTypeOf } from './validation.js';

/** A fast yes/no check of a plain object against a DTO class's class-validator rules. */
export type CompiledCheck = (value: unknown) => boolean;

interface PropertyRule {
  property: string;
  conditions: Array<(object: object, value: unknown) => boolean>;
  constraints: Array<{ validate(value: unknown, args: ValidationArguments): unknown; constraints: unknown[]; each: boolean }>;
  nested?: { each: boolean; check: () => CompiledCheck };
}

const compiled = new Map<Function, CompiledCheck>();

/**
 * Compiles the class-validator rules of a DTO class (and of the nested DTOs it declares) into one
 * function, once, so that the hot path skips class-transformer's copy and class-validator's executor.
 * It calls the very same constraint functions the decorators registered, so it accepts exactly what
 * they accept; it only answers yes or no. Use `validateSync` for the messages when it says no.
 */
export function compileValidator(cls: new () => object): CompiledCheck {
  const existing = compiled.get(cls);
  if (existing) return existing;
  const storage = getMetadataStorage();
  const byProperty = new Map<string, PropertyRule>();
  const rule = (property: string) => {
    if (!byProperty.has(property)) byProperty.set(property, { property, conditions: [], constraints: [] });
    return byProperty.get(property)!;
  };
  for (const metadata of storage.getTargetValidationMetadatas(cls, '', true, false)) {
    const target = rule(metadata.propertyName);
    if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
      target.conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
    } else if (metadata.type === ValidationTypes.CUSTOM_VALIDATION) {
      if (metadata.validateIf) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} uses validateIf`);
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} is async`);
        target.constraints.push({
          validate: constraint.instance.validate.bind(constraint.instance),
          constraints: metadata.constraints,
          each: metadata.each,
        });
      }
    } else if (metadata.type === ValidationTypes.NESTED_VALIDATION) {
      const type = nestedTypeOf(cls, metadata.propertyName);
      if (!type) throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} declares no nested type`);
      target.nested = { each: metadata.each, check: () => compileValidator(type) };
    } else {
      throw new Error(`compileValidator: ${cls.name}.${metadata.propertyName} uses unsupported ${metadata.type}`);
    }
  }
  const rules = [...byProperty.values()];

  const check: CompiledCheck = (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const object = value as Record<string, unknown>;
    for (const { property, conditions, constraints, nested } of rules) {
      const field = object[property];
      if (!conditions.every((condition) => condition(object, field))) continue;
      for (const { validate, constraints: args, each } of constraints) {
        const validationArguments: ValidationArguments = {
          targetName: cls.name,
          property,
          object,
          value: field,
          constraints: args,
        };
        if (each && Array.isArray(field)) {
          if (!field.every((item) => validate(item, validationArguments) === true)) return false;
        } else if (validate(field, validationArguments) !== true) {
          return false;
        }
      }
      if (nested && field !== undefined) {
        const inner = nested.check();
        const ok = Array.isArray(field) ? field.every((item) => inner(item)) : inner(field);
        if (!ok) return false;
      }
    }
    return true;
  };
  compiled.set(cls, check);
  return check;
}
